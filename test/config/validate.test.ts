import { describe, expect, it } from "vitest";
import { ConfigError, type ConfigProblem } from "../../src/config/errors";
import { SecretValue } from "../../src/config/secret";
import { loadStack } from "../../src/config/stackFile";
import { validateLab } from "../../src/config/validate";
import { PROJECT } from "../support/stacks";

const linuxGuest = { os: "linux", name: "g1", baseImage: "/images/base.qcow2" };
const windowsGuest = { os: "windows", name: "w1", baseImage: "/images/win.qcow2", virtioWinIso: "/iso/virtio-win.iso" };

function problems(raw: Record<string, unknown>): ConfigProblem[] {
  try {
    validateLab("t", raw);
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
  throw new Error("expected the config to be refused");
}

function onlyProblem(raw: Record<string, unknown>): ConfigProblem {
  const p = problems(raw);
  expect(p).toHaveLength(1);
  return p[0]!;
}

describe("defaults", () => {
  it("fills a minimal Linux lab from the seed's defaults", () => {
    const cfg = validateLab("s", { guest: linuxGuest });
    expect(cfg.network).toMatchObject({ mode: "adopt", name: "default", bridge: "virbr0", mtu: 1500, hostAddress: "192.168.122.1" });
    expect(cfg.iperf3.port).toBe(12345);
    expect(cfg.matrix).toMatchObject({ payloads: [1472, 65507], repetitions: 3, durationSeconds: 10, bitrates: ["1G"], order: "listed" });
    expect(cfg.guest.overlayPath).toBe("/var/lib/libvirt/images/g1-overlay.qcow2");
    expect(cfg.guest.mac).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
    expect(cfg.variant).toBe("mtu1500-uso-default");
  });

  it("derives the default payloads from the MTU", () => {
    const cfg = validateLab("s", { guest: linuxGuest, network: { mtu: 9000 } });
    expect(cfg.matrix.payloads).toEqual([8972, 65507]);
  });

  it("names the variant after MTU and USO", () => {
    const on = validateLab("s", { guest: linuxGuest, network: { mtu: 9000 }, guestOffloads: { uso: { ipv4: true } } });
    const off = validateLab("s", { guest: linuxGuest, guestOffloads: { uso: { ipv4: false } } });
    expect(on.variant).toBe("mtu9000-uso-on");
    expect(off.variant).toBe("mtu1500-uso-off");
  });

  it("gives a dedicated network a fixed guest address and a DHCP range that avoids it", () => {
    const cfg = validateLab("s", { guest: linuxGuest, network: { mode: "dedicated", cidr: "10.9.8.0/24" } });
    expect(cfg.network).toMatchObject({ name: "offload-lab", bridge: "olbr0", hostAddress: "10.9.8.1", guestAddress: "10.9.8.10", dhcpStart: "10.9.8.100", dhcpEnd: "10.9.8.254", netmask: "255.255.255.0" });
  });

  it("keeps the MAC stable for a stack and guest", () => {
    expect(validateLab("s", { guest: linuxGuest }).guest.mac).toBe(validateLab("s", { guest: linuxGuest }).guest.mac);
  });

  it("leaves the machine type to the host (guest-domain picks the newest q35 that keeps USO), and defaults iperf3.exe's path", () => {
    const cfg = validateLab("s", { guest: windowsGuest });
    expect(cfg.guest.machineType).toBeUndefined();
    expect(cfg.guest.installNetkvm).toBe(false);
    expect(cfg.guest.iperf3Path).toBe("C:\\iperf3\\iperf3.exe");
  });
});

describe("each problem names the key, the value and what is allowed", () => {
  it.each([
    [{ network: { mtu: 67 } }, "offload-lab:network.mtu", 67, "from 68 to 65535"],
    [{ network: { mtu: 70000 } }, "offload-lab:network.mtu", 70000, "from 68 to 65535"],
    [{ network: { mtu: 1500.5 } }, "offload-lab:network.mtu", 1500.5, "whole number"],
    [{ network: { mtu: "9000" } }, "offload-lab:network.mtu", "9000", "whole number"],
    [{ matrix: { payloads: [15] } }, "offload-lab:matrix.payloads.0", 15, "from 16 to 65507"],
    [{ matrix: { payloads: [1472, 65508] } }, "offload-lab:matrix.payloads.1", 65508, "from 16 to 65507"],
    [{ matrix: { repetitions: 0 } }, "offload-lab:matrix.repetitions", 0, "from 1 to 100"],
    [{ matrix: { durationSeconds: 3601 } }, "offload-lab:matrix.durationSeconds", 3601, "from 1 to 3600"],
    [{ matrix: { bitrates: ["fast"] } }, "offload-lab:matrix.bitrates.0", "fast", "bitrate"],
    [{ matrix: { order: "random" } }, "offload-lab:matrix.order", "random", "listed, shuffled"],
    [{ iperf3: { port: 0 } }, "offload-lab:iperf3.port", 0, "from 1 to 65535"],
    [{ network: { cidr: "10.0.0.0/33" } }, "offload-lab:network.cidr", "10.0.0.0/33", "CIDR"],
    [{ network: { cidr: "10.0.0.5/24" } }, "offload-lab:network.cidr", "10.0.0.5/24", "CIDR"],
    [{ network: { mode: "bridged" } }, "offload-lab:network.mode", "bridged", "adopt, dedicated"],
    [{ network: { guestAddress: "10.0.0.300" } }, "offload-lab:network.guestAddress", "10.0.0.300", "IPv4"],
    [{ hostOffloads: { tap: { "tx-udp-segmentation": "yes" } } }, "offload-lab:hostOffloads.tap.tx-udp-segmentation", "yes", "on or off"],
    [{ capture: { frames: "yes" } }, "offload-lab:capture.frames", "yes", "true or false"],
    [{ libvirt: { domainType: "xen" } }, "offload-lab:libvirt.domainType", "xen", "kvm, qemu"],
    [{ host: { connection: "telnet" } }, "offload-lab:host.connection", "telnet", "local, ssh"],
  ])("%j", (override, key, value, allowed) => {
    const p = onlyProblem({ guest: linuxGuest, ...override });
    expect(p.key).toBe(key);
    expect(p.value).toEqual(value);
    expect(p.allowed).toContain(allowed);
  });

  it.each([
    ["os", "beos", "windows, linux"],
    ["name", "", "1-64 characters"],
    ["name", "a;rm -rf /", "1-64 characters"],
    ["name", "<x/>", "1-64 characters"],
    ["baseImage", "", "absolute path"],
    ["baseImage", "images/base.qcow2", "absolute path"],
    ["baseImage", "/images/a\nb", "absolute path"],
    ["mac", "52:54:00:12:34", "MAC"],
    ["mac", "53:54:00:12:34:56", "unicast"],
    ["tapName", "vnet0", "libvirt reserves"],
    ["tapName", "tap-with-a-very-long-name", "1-15"],
    ["tapName", "tap 0", "interface name"],
    ["vcpus", 0, "from 1 to 64"],
    ["memoryMiB", 128, "from 256"],
    ["access", "rdp", "agent, ssh"],
    ["iperf3Path", "iperf3$(reboot)", "'$'"],
    ["iperf3Path", "C:\\x'y", "quotes"],
    ["machineType", "pc;q35", "machine type"],
  ])("guest.%s = %j", (field, value, allowed) => {
    const p = onlyProblem({ guest: { ...linuxGuest, [field]: value } });
    expect(p.key).toBe(`offload-lab:guest.${field}`);
    expect(p.value).toEqual(value);
    expect(p.allowed).toContain(allowed);
  });

  it("offers the nearest ethtool feature for a misspelt one, and no list of them all", () => {
    const p = onlyProblem({ guest: linuxGuest, hostOffloads: { bridge: { "tx-udp-segmentaton": "on" } } });
    expect(p.key).toBe("offload-lab:hostOffloads.bridge.tx-udp-segmentaton");
    expect(p.allowed).toBe("is not an ethtool feature");
    expect(p.hint).toBe("did you mean tx-udp-segmentation?");
  });

  it("describes the ethtool features with examples when no name is near", () => {
    const p = onlyProblem({ guest: linuxGuest, guestOffloads: { ethtool: { turbo: "on" } } });
    expect(p.hint).toBeUndefined();
    expect(p.allowed).toBe("is not an ethtool feature (allowed: one of the kernel's 62 feature names as ethtool -k prints them, such as tx-udp-segmentation, tx-generic-segmentation, rx-gro, rx-gro-hw)");
  });

  it("lists the virtio-net properties (19) when no name is near, and the nearest when one is", () => {
    const far = onlyProblem({ guest: { ...linuxGuest, virtioNetFeatures: { turbo: "on" } } });
    expect(far.key).toBe("offload-lab:guest.virtioNetFeatures.turbo");
    expect(far.allowed).toContain("host_uso, guest_uso4, guest_uso6");
    const near = onlyProblem({ guest: { ...linuxGuest, virtioNetFeatures: { hostuso: "on" } } });
    expect(near.hint).toBe("did you mean host_uso?");
  });

  it("refuses an unknown setting with its key, and offers the nearest", () => {
    const p = onlyProblem({ guest: linuxGuest, network: { mtuu: 9000 } });
    expect(p.key).toBe("offload-lab:network.mtuu");
    expect(p.allowed).toContain("is not a setting");
    expect(p.hint).toBe("did you mean network.mtu?");
  });

  it("reports every problem at once", () => {
    expect(problems({ guest: { ...linuxGuest, vcpus: 0 }, network: { mtu: 1 }, iperf3: { port: 99999 } })).toHaveLength(3);
  });

  it("requires a guest", () => {
    expect(onlyProblem({}).key).toBe("offload-lab:guest");
  });
});

describe("rules across settings", () => {
  it("holds a Windows guest to what NetKVM *JumboPacket accepts", () => {
    const p = onlyProblem({ guest: windowsGuest, network: { mtu: 65535 } });
    expect(p).toMatchObject({ key: "offload-lab:network.mtu", value: 65535 });
    expect(p.allowed).toContain("from 576 to 65486 for a Windows guest");
    expect(onlyProblem({ guest: windowsGuest, guestOffloads: { mtu: 500 } }).key).toBe("offload-lab:guestOffloads.mtu");
    expect(validateLab("s", { guest: windowsGuest, network: { mtu: 65486 } }).offloads.mtu).toBe(65486);
  });

  it("accepts MTU 68 for a Linux guest", () => {
    expect(validateLab("s", { guest: linuxGuest, network: { mtu: 68 } }).network.mtu).toBe(68);
  });

  it("needs the virtio-win ISO for a Windows guest", () => {
    const { virtioWinIso: _, ...noIso } = windowsGuest;
    expect(onlyProblem({ guest: noIso })).toMatchObject({ key: "offload-lab:guest.virtioWinIso", value: undefined });
  });

  it("keeps direct kernel boot and ethtool extras to Linux guests", () => {
    expect(onlyProblem({ guest: { ...windowsGuest, kernel: "/boot/vmlinuz" } }).key).toBe("offload-lab:guest.kernel");
    expect(onlyProblem({ guest: windowsGuest, guestOffloads: { ethtool: { "rx-gro": "on" } } }).key).toBe("offload-lab:guestOffloads.ethtool");
    expect(onlyProblem({ guest: { ...linuxGuest, adapterName: "Ethernet" } }).key).toBe("offload-lab:guest.adapterName");
  });

  it("needs a kernel for an initrd and UEFI for a TPM", () => {
    expect(onlyProblem({ guest: { ...linuxGuest, initrd: "/boot/initrd" } }).key).toBe("offload-lab:guest.initrd");
    expect(onlyProblem({ guest: { ...windowsGuest, tpm: true } }).key).toBe("offload-lab:guest.tpm");
  });

  it("keeps the guest address inside the network and off the bridge", () => {
    expect(onlyProblem({ guest: linuxGuest, network: { mode: "dedicated", cidr: "10.1.0.0/24", guestAddress: "10.2.0.5" } }).key).toBe("offload-lab:network.guestAddress");
    expect(onlyProblem({ guest: linuxGuest, network: { mode: "dedicated", cidr: "10.1.0.0/24", guestAddress: "10.1.0.1" } }).allowed).toContain("other than the bridge's 10.1.0.1");
  });

  it("requires the host SSH key as a secret for an SSH host", () => {
    const host = { connection: "ssh", address: "kvm1.example.test" };
    expect(onlyProblem({ guest: linuxGuest, host })).toMatchObject({ key: "offload-lab:hostSshPrivateKey", value: undefined });
    const plain = onlyProblem({ guest: linuxGuest, host, hostSshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----" });
    expect(plain.key).toBe("offload-lab:hostSshPrivateKey");
    expect(plain.allowed).toContain("must be a Pulumi secret");
    const cfg = validateLab("s", { guest: linuxGuest, host, hostSshPrivateKey: new SecretValue("offload-lab:hostSshPrivateKey") });
    expect(cfg.secrets.hostSshPrivateKey).toEqual({ key: "offload-lab:hostSshPrivateKey" });
    expect(JSON.stringify(cfg)).not.toContain("BEGIN");
  });

  it("requires a key and an address for guest access over SSH", () => {
    const p = problems({ guest: { ...linuxGuest, access: "ssh" } });
    expect(p.map((x) => x.key).sort()).toEqual(["offload-lab:guest.ssh.address", "offload-lab:guestSshPrivateKey"]);
  });

  it("refuses a hostile SSH host name", () => {
    expect(onlyProblem({ guest: linuxGuest, host: { connection: "ssh", address: "-oProxyCommand=sh", }, hostSshPrivateKey: new SecretValue("k") }).key).toBe("offload-lab:host.address");
  });
});

describe("the error message", () => {
  it("says the stack, each key, the value given and what is allowed", () => {
    expect(() => validateLab("mtu-bad", { guest: linuxGuest, network: { mtu: 70000 } })).toThrow(
      'stack mtu-bad has 1 invalid setting:\n  - offload-lab:network.mtu: must be a whole number from 68 to 65535 (given: 70000)',
    );
  });
});

describe("matrix.senders", () => {
  const gsoMatrix = { payloads: [1472], senders: ["plain", "gso"] };

  it("defaults to plain, as the seed ran iperf3", () => {
    expect(validateLab("s", { guest: linuxGuest }).matrix.senders).toEqual(["plain"]);
    expect(validateLab("s", { guest: linuxGuest, matrix: gsoMatrix }).matrix.senders).toEqual(["plain", "gso"]);
  });

  it.each([
    [{ senders: ["plain", "turbo"] }, "offload-lab:matrix.senders.1", "turbo", "plain, gso, uso"],
    [{ senders: [] }, "offload-lab:matrix.senders", [], "at least one sender"],
    [{ senders: ["gso", "gso"], payloads: [1472] }, "offload-lab:matrix.senders", ["gso", "gso"], "twice"],
    [{ senders: "gso" }, "offload-lab:matrix.senders", "gso", "list of senders"],
  ])("%j", (matrix, key, value, allowed) => {
    const p = onlyProblem({ guest: linuxGuest, matrix });
    expect(p).toMatchObject({ key, value });
    expect(p.allowed).toContain(allowed);
  });

  it("plans gso per payload: a payload above MTU − 28 is no longer refused, only a gso with no payload it can send", () => {
    expect(validateLab("s", { guest: linuxGuest, network: { mtu: 1500 }, matrix: { payloads: [1472, 8972], senders: ["plain", "gso"] } }).matrix.senders).toEqual(["plain", "gso"]);
    expect(validateLab("s", { guest: linuxGuest, matrix: { senders: ["gso"] } }).matrix.payloads).toEqual([1472, 65507]);
    const p = onlyProblem({ guest: linuxGuest, network: { mtu: 1500 }, matrix: { payloads: [8972, 65507], senders: ["plain", "gso"] } });
    expect(p).toMatchObject({ key: "offload-lab:matrix.senders.1", value: "gso" });
    expect(p.allowed).toContain("needs at least one payload at most MTU − 28 = 1472");
    expect(p.allowed).toContain("payloads given: 8972, 65507");
  });

  it("counts the guest's MTU for the limit", () => {
    expect(onlyProblem({ guest: linuxGuest, guestOffloads: { mtu: 1400 }, matrix: gsoMatrix }).allowed).toContain("MTU − 28 = 1372");
    expect(validateLab("s", { guest: linuxGuest, network: { mtu: 9000 }, matrix: { payloads: [1472, 8972], senders: ["gso"] } }).matrix.senders).toEqual(["gso"]);
  });

  it("refuses gso on a Windows guest and uso on a Linux guest, saying which sender each takes", () => {
    const gso = onlyProblem({ guest: windowsGuest, matrix: gsoMatrix });
    expect(gso).toMatchObject({ key: "offload-lab:matrix.senders.1", value: "gso" });
    expect(gso.allowed).toContain("Linux guest only");
    const uso = onlyProblem({ guest: linuxGuest, matrix: { payloads: [1472], senders: ["uso"] } });
    expect(uso).toMatchObject({ key: "offload-lab:matrix.senders.0", value: "uso" });
    expect(uso.allowed).toContain("Windows guest only");
    expect(uso.allowed).toContain("plain or gso");
  });
});

// Issue 18 item 1: the tap's USO is host-to-guest USO, which NetKVM never acknowledges.
describe("host offloads for a Windows guest", () => {
  it("refuses tap tx-udp-segmentation and tx-tcp-ecn-segmentation on, explaining guest-receive USO", () => {
    const problems = (() => {
      try {
        validateLab("s", { guest: windowsGuest, hostOffloads: { tap: { "tx-udp-segmentation": "on", "tx-tcp-ecn-segmentation": "on", "rx-gro": "on" } } });
      } catch (e) {
        return (e as ConfigError).problems;
      }
      return [];
    })();
    expect(problems.map((p) => [p.key, p.value])).toEqual([
      ["offload-lab:hostOffloads.tap.tx-udp-segmentation", "on"],
      ["offload-lab:hostOffloads.tap.tx-tcp-ecn-segmentation", "on"],
    ]);
    expect(problems[0]!.allowed).toBe("cannot be on with a Windows guest: the tap needs TUN_F_USO4/6, which QEMU sets only when the guest acknowledges VIRTIO_NET_F_GUEST_USO4/6 (USO towards the guest, host to guest); NetKVM implements HOST_USO only — the Windows guest's USO is guest transmit, set by guestOffloads.uso and virtio-net host_uso; remove it (or set it off)");
  });

  it("lets it off, and lets a Linux guest have it on", () => {
    expect(validateLab("s", { guest: windowsGuest, hostOffloads: { tap: { "tx-udp-segmentation": "off" } } }).hostOffloads.tap).toEqual({ "tx-udp-segmentation": "off" });
    expect(validateLab("s", { guest: linuxGuest, hostOffloads: { tap: { "tx-udp-segmentation": "on" } } }).hostOffloads.tap).toEqual({ "tx-udp-segmentation": "on" });
  });

  it("no Windows stack asks for it", () => {
    for (const stack of ["mtu1500-uso-off", "mtu1500-uso-on", "mtu9000-uso-off", "mtu9000-uso-on"]) {
      expect(loadStack(PROJECT, stack).hostOffloads.tap, stack).toEqual({});
    }
  });
});

describe("guest.installNetkvm", () => {
  it("is for a Windows guest only", () => {
    expect(validateLab("s", { guest: { ...windowsGuest, installNetkvm: true } }).guest.installNetkvm).toBe(true);
    const p = onlyProblem({ guest: { ...linuxGuest, installNetkvm: true } });
    expect(p).toMatchObject({ key: "offload-lab:guest.installNetkvm", value: true });
    expect(p.allowed).toContain("only for a Windows guest");
  });
});
