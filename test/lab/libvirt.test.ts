import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LabConfig } from "../../src/config/model";
import { loadStack } from "../../src/config/stackFile";
import { validateLab } from "../../src/config/validate";
import { parseDiskOutput } from "../../src/plan/guest-disk/output";
import { guestDiskStep } from "../../src/plan/guest-disk/step";
import { domainXml } from "../../src/plan/guest-domain/domainXml";
import { parseDomainOutput } from "../../src/plan/guest-domain/output";
import { guestDomainStep } from "../../src/plan/guest-domain/step";
import { parseHostReadiness } from "../../src/plan/host-readiness/output";
import { hostReadinessStep as readinessStep } from "../../src/plan/host-readiness/step";
import { parseNetworkOutput } from "../../src/plan/network/output";
import { networkStep as netStep } from "../../src/plan/network/step";
import type { Step } from "../../src/plan/step";
import { Libvirtd } from "../../src/sandbox/libvirtd";
import { Namespace, canUseNamespaces } from "../../src/sandbox/netns";
import { transportStub } from "../support/transportStub";

const NEEDED = ["libvirtd", "virtlogd", "virsh", "qemu-img", "qemu-system-x86_64", "virt-xml-validate", "xmllint", "nsenter", "unshare", "ethtool", "iperf3"];
const missing = NEEDED.filter((t) => spawnSync("sh", ["-c", `command -v ${t}`]).status !== 0);
const namespaces = canUseNamespaces();
const skipReason = !namespaces.ok ? namespaces.reason : missing.length > 0 ? `missing tools: ${missing.join(", ")}` : "";
if (skipReason) console.warn(`libvirt lab tests skipped: ${skipReason}`);

const projectDir = path.join(__dirname, "..", "..");
/** Every character class a path may carry that bash, virsh, qemu-img or XML could trip on. */
const HOSTILE_DIR = `it's "a" $(touch pwned) \`id\` <&> é`;

// The steps as the lab plans them, each after the one it waits for; agent access to the guest.
const hostReadinessStep = (cfg: LabConfig) => readinessStep(cfg, transportStub("agent"));
const hostReadiness = { name: "host-readiness" } as Step;
const networkStep = (cfg: LabConfig) => netStep(cfg, { hostReadiness });
const diskStep = (cfg: LabConfig) => guestDiskStep(cfg, { hostReadiness });
const domainStep = (cfg: LabConfig) => guestDomainStep(cfg, { network: networkStep(cfg), guestDisk: diskStep(cfg) });

function sha256(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

describe.skipIf(skipReason !== "")("libvirt layer on a real libvirtd (TCG, in a network namespace)", () => {
  let ns: Namespace;
  let lv: Libvirtd;
  let dir: string;
  let base: string;
  let iso: string;
  let baseSum: string;

  /** Runs a step's script where the KVM host's shell would run it; returns stdout. */
  const run = (script: string) => lv.bash(script);
  /** Runs a script that must fail; returns its stderr. */
  const runFailing = (script: string): string => {
    try {
      lv.bash(script);
    } catch (e) {
      return String((e as { stderr?: string }).stderr);
    }
    throw new Error("the script succeeded; it should have failed");
  };
  const sysNet = (dev: string, file = "mtu") => lv.exec(["cat", `/sys/class/net/${dev}/${file}`]).trim();
  const devices = () => lv.exec(["ls", "/sys/class/net"]).split(/\s+/).filter(Boolean).sort();
  const validates = (xml: string, kind: string) => {
    const file = path.join(dir, `validate-${kind}.xml`);
    fs.writeFileSync(file, xml);
    return spawnSync("virt-xml-validate", [file, kind], { encoding: "utf8" }).status === 0;
  };

  /** A directory of links to every command this host has but `missing`: it stands in for PATH. */
  const pathWithout = (missing: string): string => {
    const bin = fs.mkdtempSync(path.join(dir, `no-${missing}-`));
    for (const d of ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]) {
      if (!fs.existsSync(d)) continue;
      for (const f of fs.readdirSync(d)) {
        if (f !== missing && !fs.existsSync(path.join(bin, f))) fs.symlinkSync(path.join(d, f), path.join(bin, f));
      }
    }
    return bin;
  };

  const labConfig = (over: { network?: object; guest?: object; libvirt?: object; iperf3?: object } = {}): LabConfig =>
    validateLab("lab-test", {
      libvirt: { domainType: "qemu", ...over.libvirt },
      network: { mode: "dedicated", name: "ol-test", bridge: "oltbr0", cidr: "10.88.0.0/24", mtu: 9000, ...over.network },
      guest: {
        // No machineType: the guest-domain step picks the host's newest q35 type that keeps USO.
        os: "windows", name: "ol-test-guest", vcpus: 1, memoryMiB: 256,
        baseImage: base, overlayDir: path.join(dir, HOSTILE_DIR, "overlays"), virtioWinIso: iso,
        tapName: "oltap0", queues: 2, virtioNetFeatures: { mrg_rxbuf: "off" }, ...over.guest,
      },
      iperf3: over.iperf3 ?? {},
    });

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ol-libvirt-lab-"));
    fs.mkdirSync(path.join(dir, HOSTILE_DIR), { recursive: true });
    base = path.join(dir, HOSTILE_DIR, "base.qcow2");
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", base, "64M"]);
    iso = path.join(dir, HOSTILE_DIR, "virtio-win.iso");
    fs.writeFileSync(iso, Buffer.alloc(64 * 1024)); // a stand-in: QEMU only opens it
    baseSum = sha256(base);
    ns = new Namespace("ollv");
    lv = Libvirtd.start(ns);
  });

  afterAll(() => {
    lv?.stop();
    ns?.remove();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  describe("host readiness", () => {
    it("records the kernel, libvirt and QEMU versions of the host", () => {
      const out = parseHostReadiness(run(hostReadinessStep(labConfig()).create));
      expect(out.kernel).toBe(os.release());
      expect(lv.virsh(["version", "--daemon"])).toContain(`Running against daemon: ${out.libvirt}`);
      expect(lv.virsh(["version"])).toContain(`Running hypervisor: QEMU ${out.qemu}`);
      expect(out.qemu).toMatch(/^\d+\.\d+\.\d+$/);
    });

    it("records whether this QEMU's virtio-net has host_uso, and lets a USO stack through", () => {
      const cfg = labConfig({ guest: { virtioNetFeatures: { host_uso: "on", guest_uso4: "on" } } });
      const out = parseHostReadiness(run(hostReadinessStep(cfg).create));
      expect(out.emulator).toMatch(/qemu-system-x86_64$/);
      const help = lv.exec([out.emulator, "-device", "virtio-net-pci,help"]);
      expect(out.qemuHostUso).toBe(/^\s*host_uso=/m.test(help));
      // This machine's QEMU is 10.0 from bookworm-backports.
      expect(out.qemuHostUso).toBe(true);
    });

    it("refuses USO on a QEMU whose virtio-net lacks it, naming the versions needed, before anything is defined", () => {
      // The real QEMU 10 with its USO properties filtered out of its help, as QEMU 7.2 prints it.
      const older = path.join(dir, "qemu-without-uso");
      fs.writeFileSync(older, `#!/bin/sh\nqemu-system-x86_64 "$@" | grep -v uso\n`, { mode: 0o755 });
      const asUsoLess = (script: string) => script.replace(/^emulator=.*$/m, `emulator=${older}`);
      for (const cfg of [
        labConfig({ guest: { virtioNetFeatures: { host_uso: "off" } } }),
        validateLab("lab-test", { libvirt: { domainType: "qemu" }, guest: { os: "linux", name: "l", baseImage: base }, guestOffloads: { uso: { ipv4: true } } }),
      ]) {
        const err = runFailing(asUsoLess(hostReadinessStep(cfg).create));
        expect(err).toMatch(/has no virtio-net host_uso: USO needs QEMU >= 8\.2 and libvirt >= 8\.2 \(this host: QEMU \d+\.\d+\.\d+, libvirt \d+\.\d+\.\d+\)/);
      }
      expect(runFailing(asUsoLess(hostReadinessStep(labConfig({ guest: { virtioNetFeatures: { host_uso: "on" } } })).create)))
        .toContain("the stack asks for guest.virtioNetFeatures host_uso, but QEMU");
      // A stack that asks nothing of USO runs on such a QEMU and says it has none.
      expect(parseHostReadiness(run(asUsoLess(hostReadinessStep(labConfig()).create))).qemuHostUso).toBe(false);
      expect(lv.virsh(["list", "--all", "--name"]).trim()).toBe("");
    });

    it("refuses USO properties on a libvirt older than 8.2 (no <qemu:override>)", () => {
      const script = hostReadinessStep(labConfig({ guest: { virtioNetFeatures: { guest_uso6: "on" } } })).create
        .replace(/^libvirt=.*$/m, "libvirt=8.1.0");
      expect(runFailing(script)).toContain("set through <qemu:override>, which needs libvirt >= 8.2 (this host: libvirt 8.1.0, QEMU");
    });

    it("reaches libvirt through the URI from config, from outside the daemon's namespaces", () => {
      const out = parseHostReadiness(ns.bash(hostReadinessStep(labConfig({ libvirt: { uri: lv.uri } })).create));
      expect(out.libvirt).toMatch(/^\d+\.\d+\.\d+$/);
    });

    it("names every missing tool, with what to install, in one message", () => {
      const cfg = labConfig({ iperf3: { binary: "/nonexistent/iperf3" } });
      const script = hostReadinessStep(cfg).create.replace(/^TOOLS=\((\S+)/m, "TOOLS=(no-such-virsh");
      const err = runFailing(script);
      expect(err).toContain("no-such-virsh (install: libvirt-clients (Debian) / libvirt-client (RHEL))");
      expect(err).toContain("/nonexistent/iperf3 (install: iperf3)");
      expect(err.trim().split("\n")).toHaveLength(1);
    });

    it("names jq when the host lacks it", () => {
      const bin = pathWithout("jq");
      const err = runFailing(`PATH=${bin}\n${hostReadinessStep(labConfig()).create}`);
      expect(err).toContain("jq (install: jq)");
    });

    it("fails when libvirt does not answer", () => {
      const uri = `qemu+unix:///system?socket=${dir}/no-such-sock`;
      expect(runFailing(hostReadinessStep(labConfig({ libvirt: { uri } })).create)).toContain("does not answer");
    });
  });

  describe("dedicated network", () => {
    it("starts with its bridge at the configured MTU, and a re-run changes nothing", () => {
      const step = networkStep(labConfig());
      const out = parseNetworkOutput(run(step.create));
      expect(out).toEqual({ network: "ol-test", mode: "dedicated", bridge: "oltbr0", mtu: 9000 });
      expect(sysNet("oltbr0")).toBe("9000");
      expect(validates(lv.virsh(["net-dumpxml", "ol-test"]), "network")).toBe(true);
      expect(parseNetworkOutput(run(step.create))).toEqual(out);
    });

    it("puts the bridge back at its MTU when someone changed it", () => {
      lv.exec(["ip", "link", "set", "oltbr0", "mtu", "1500"]);
      expect(parseNetworkOutput(run(networkStep(labConfig()).create)).mtu).toBe(9000);
      expect(sysNet("oltbr0")).toBe("9000");
    });

    it("applies a new MTU on re-run", () => {
      expect(parseNetworkOutput(run(networkStep(labConfig({ network: { mtu: 4000 } })).create)).mtu).toBe(4000);
      expect(sysNet("oltbr0")).toBe("4000");
      expect(parseNetworkOutput(run(networkStep(labConfig()).create)).mtu).toBe(9000);
    });
  });

  describe("adopted network", () => {
    const adopt = (mtu: number) => networkStep(labConfig({ network: { mode: "adopt", name: "default", bridge: undefined, cidr: undefined, mtu } }));
    let original = "";

    beforeAll(() => {
      lv.virsh(["net-define", "/usr/share/libvirt/networks/default.xml"]);
      lv.virsh(["net-start", "default"]);
      original = lv.virsh(["net-dumpxml", "--inactive", "default"]);
    });

    afterAll(() => {
      spawnSync("virsh", ["-c", lv.uri, "net-destroy", "default"]);
      spawnSync("virsh", ["-c", lv.uri, "net-undefine", "default"]);
    });

    it("applies the MTU to the existing network", () => {
      const out = parseNetworkOutput(run(adopt(9000).create));
      expect(out).toEqual({ network: "default", mode: "adopt", bridge: "virbr0", mtu: 9000 });
      expect(sysNet("virbr0")).toBe("9000");
      const adopted = lv.virsh(["net-dumpxml", "--inactive", "default"]);
      expect(adopted).toContain("<mtu size='9000'/>");
      expect(validates(adopted, "network")).toBe(true);
    });

    it("keeps the first saved original across re-runs and MTU changes", () => {
      expect(parseNetworkOutput(run(adopt(9000).create)).mtu).toBe(9000);
      expect(parseNetworkOutput(run(adopt(4000).create)).mtu).toBe(4000);
      expect(sysNet("virbr0")).toBe("4000");
      expect(lv.virsh(["net-dumpxml", "--inactive", "default"]).match(/offloadlab:original /g)).toHaveLength(1);
    });

    it("restores the original definition byte for byte on delete, and delete can run again", () => {
      run(adopt(4000).delete!);
      expect(lv.virsh(["net-dumpxml", "--inactive", "default"])).toBe(original);
      expect(lv.virsh(["net-info", "default"])).toMatch(/Active:\s+yes/);
      expect(sysNet("virbr0")).toBe("1500");
      run(adopt(4000).delete!);
      expect(lv.virsh(["net-dumpxml", "--inactive", "default"])).toBe(original);
    });

    it("leaves a network that was inactive inactive after restoring it", () => {
      lv.virsh(["net-destroy", "default"]);
      expect(parseNetworkOutput(run(adopt(9000).create)).mtu).toBe(9000);
      run(adopt(9000).delete!);
      expect(lv.virsh(["net-dumpxml", "--inactive", "default"])).toBe(original);
      expect(lv.virsh(["net-info", "default"])).toMatch(/Active:\s+no/);
    });

    it("fails with advice when the network to adopt does not exist", () => {
      const step = networkStep(labConfig({ network: { mode: "adopt", name: "nosuch", bridge: undefined, cidr: undefined } }));
      expect(runFailing(step.create)).toContain("network nosuch to adopt is not defined");
      run(step.delete!);
    });
  });

  describe("guest disk", () => {
    it("is a linked clone of the base; a re-run keeps it; delete removes the overlay only", () => {
      const step = diskStep(labConfig());
      const overlay = labConfig().guest.overlayPath;
      const out = parseDiskOutput(run(step.create));
      expect(out).toEqual({ overlay, base, baseFormat: "qcow2", virtualSizeBytes: 64 * 1024 * 1024, created: true });
      const info = JSON.parse(execFileSync("qemu-img", ["info", "-U", "--output=json", overlay], { encoding: "utf8" }));
      expect([info.format, info["backing-filename"], info["backing-filename-format"]]).toEqual(["qcow2", base, "qcow2"]);
      expect(parseDiskOutput(run(step.create)).created).toBe(false);
      run(step.delete!);
      expect(fs.existsSync(overlay)).toBe(false);
      run(step.delete!);
      expect(sha256(base)).toBe(baseSum);
      expect(fs.existsSync(path.join(dir, "pwned"))).toBe(false);
    });

    it("refuses an overlay that is not a clone of the base", () => {
      const cfg = labConfig();
      fs.mkdirSync(path.dirname(cfg.guest.overlayPath), { recursive: true });
      execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", cfg.guest.overlayPath, "1M"]);
      expect(runFailing(diskStep(cfg).create)).toContain("is not a linked clone of");
      fs.rmSync(cfg.guest.overlayPath);
    });

    it("fails when the base image is missing", () => {
      const cfg = labConfig({ guest: { baseImage: path.join(dir, "missing.qcow2") } });
      expect(runFailing(diskStep(cfg).create)).toContain("is not a file on the KVM host");
    });
  });

  describe("guest domain", () => {
    const cfg = () => labConfig();
    let domid = "";

    beforeAll(() => {
      run(networkStep(cfg()).create);
      run(diskStep(cfg()).create);
    });

    /** The newest pc-q35-X.Y this host's libvirt lists (virsh capabilities), computed here apart from machine-lib.sh. */
    const newestQ35 = () => [...lv.virsh(["capabilities"]).matchAll(/>(pc-q35-(\d+)\.(\d+))</g)]
      .sort((a, b) => Number(b[2]) - Number(a[2]) || Number(b[3]) - Number(a[3]))[0]![1];

    it("starts under TCG with its tap at the network MTU and QEMU's NIC as configured, on the machine type the host chose", () => {
      const c = cfg();
      expect(c.guest.machineType).toBeUndefined();
      const out = parseDomainOutput(run(domainStep(c).create));
      // QEMU 10.0.2 from bookworm-backports: pc-q35-10.0 keeps USO (8.2 and newer do).
      expect(newestQ35()).toBe("pc-q35-10.0");
      expect(out).toEqual({
        domain: "ol-test-guest", state: "running", tap: "oltap0", tapMtu: 9000, bridge: "oltbr0",
        mac: c.guest.mac, guestAddress: "10.88.0.10",
        device: { host_mtu: 9000, mac: c.guest.mac, mq: true, mrg_rxbuf: false },
        machineType: newestQ35(), machineTypeFrom: "host",
      });
      // The XML as defined carries the choice (xmlstarlet wrote it in before `virsh define`).
      expect(lv.virsh(["dumpxml", "--inactive", "ol-test-guest"])).toContain(`machine='${newestQ35()}'`);
      expect(sysNet("oltap0")).toBe("9000");
      expect(lv.exec(["readlink", "/sys/class/net/oltap0/master"]).trim()).toMatch(/\/oltbr0$/);
      expect(validates(lv.virsh(["dumpxml", "ol-test-guest"]), "domain")).toBe(true);
      domid = lv.virsh(["domid", "ol-test-guest"]).trim();
      expect(sha256(base)).toBe(baseSum);
    });

    it("a re-run neither redefines nor restarts the running guest", () => {
      expect(parseDomainOutput(run(domainStep(cfg()).create)).tapMtu).toBe(9000);
      expect(lv.virsh(["domid", "ol-test-guest"]).trim()).toBe(domid);
    });

    it("plugs the tap back into the bridge after the network was restarted", () => {
      lv.virsh(["net-destroy", "ol-test"]);
      lv.virsh(["net-start", "ol-test"]);
      expect(lv.exec(["ls", "/sys/class/net/oltap0"])).not.toContain("master");
      expect(parseDomainOutput(run(domainStep(cfg()).create)).bridge).toBe("oltbr0");
      expect(lv.exec(["readlink", "/sys/class/net/oltap0/master"]).trim()).toMatch(/\/oltbr0$/);
      expect(lv.virsh(["domid", "ol-test-guest"]).trim()).toBe(domid);
    });

    it("fails when the tap's MTU does not match the network's", () => {
      lv.exec(["ip", "link", "set", "oltap0", "mtu", "1500"]);
      expect(runFailing(domainStep(cfg()).create)).toContain("tap oltap0 has MTU 1500, configured 9000");
      lv.exec(["ip", "link", "set", "oltap0", "mtu", "9000"]);
    });

    it("refuses, before defining anything, a named machine type that turns USO off while the device asks for USO", () => {
      // Validation refuses this name already; the host judges what it runs, aliases resolved.
      const c = labConfig({ guest: { name: "ol-other", virtioNetFeatures: { host_uso: "on" } } });
      const old: LabConfig = { ...c, guest: { ...c.guest, machineType: "pc-q35-8.1" } };
      expect(runFailing(domainStep(old).create)).toContain("machine type pc-q35-8.1 (pc-q35-8.1) turns USO off (upstream QEMU 8.1 and older: hw_compat_8_1");
      expect(lv.virsh(["list", "--all", "--name"])).not.toContain("ol-other");
    });

    it("fails before defining anything when QEMU lacks the machine type", () => {
      const c = labConfig({ guest: { name: "ol-other", machineType: "pc-q35-99.0" } });
      expect(runFailing(domainStep(c).create)).toContain("cannot run machine type pc-q35-99.0");
      expect(lv.virsh(["list", "--all", "--name"])).not.toContain("ol-other");
    });

    it("fails before defining anything, naming the virtio-net properties QEMU lacks", () => {
      const c = labConfig({ guest: { name: "ol-other", virtioNetFeatures: { host_uso: "on", mrg_rxbuf: "off", guest_uso4: "on" } } });
      const props = execFileSync("qemu-system-x86_64", ["-device", "virtio-net-pci,help"], { encoding: "utf8" });
      const lacking = ["host_uso", "guest_uso4"].filter((p) => !new RegExp(`^ *${p}=`, "m").test(props));
      if (lacking.length === 0) {
        console.warn("this QEMU has the USO properties: nothing is missing to report");
        return;
      }
      expect(runFailing(domainStep(c).create)).toContain(`has no virtio-net property ${lacking.join(" ")}`);
      expect(lv.virsh(["list", "--all", "--name"])).not.toContain("ol-other");
    });

    it("fails before defining anything when UEFI firmware or swtpm is missing", () => {
      const caps = lv.virsh(["domcapabilities", "--virttype", "qemu", "--arch", "x86_64", "--machine", "q35"]);
      const uefi = labConfig({ guest: { name: "ol-other", firmware: "uefi" } });
      const tpm = labConfig({ guest: { name: "ol-other", firmware: "uefi", tpm: true } });
      // This host as one without OVMF: a virsh whose domain capabilities list no UEFI firmware.
      const noOvmf = fs.mkdtempSync(path.join(dir, "no-ovmf-"));
      const virsh = execFileSync("sh", ["-c", "command -v virsh"], { encoding: "utf8" }).trim();
      fs.writeFileSync(path.join(noOvmf, "virsh"), [
        "#!/bin/sh",
        `case " $* " in *" domcapabilities "*) ${virsh} "$@" | grep -v '<value>efi</value>' ;; *) exec ${virsh} "$@" ;; esac`,
        "",
      ].join("\n"), { mode: 0o755 });
      expect(runFailing(`PATH=${noOvmf}:$PATH\n${domainStep(uefi).create}`)).toMatch(/finds no UEFI firmware for pc-q35-\d+\.\d+/);
      // This host as one without swtpm: with the real capabilities, the firmware check passes first.
      const noSwtpm = `PATH=${pathWithout("swtpm")}\n${domainStep(tpm).create}`;
      if (caps.includes("<value>efi</value>")) {
        expect(runFailing(noSwtpm)).toContain("guest.tpm needs swtpm");
      } else {
        expect(runFailing(noSwtpm)).toMatch(/finds no UEFI firmware for pc-q35-\d+\.\d+/);
      }
      expect(lv.virsh(["list", "--all", "--name"])).not.toContain("ol-other");
    });

    it("restarts the guest when its definition changed", () => {
      const out = parseDomainOutput(run(domainStep(labConfig({ guest: { virtioNetFeatures: { mrg_rxbuf: "on" } } })).create));
      expect(out.device.mrg_rxbuf).toBe(true);
      expect(lv.virsh(["domid", "ol-test-guest"]).trim()).not.toBe(domid);
    });

    it("delete leaves nothing: no domain, no tap, no network, no overlay, and every delete can run again", () => {
      const c = cfg();
      for (const step of [domainStep(c), diskStep(c), networkStep(c)]) {
        run(step.delete!);
        run(step.delete!);
      }
      expect(lv.virsh(["list", "--all", "--name"]).trim()).toBe("");
      expect(lv.virsh(["net-list", "--all", "--name"]).trim()).not.toContain("ol-test");
      expect(devices()).not.toContain("oltap0");
      expect(devices()).not.toContain("oltbr0");
      expect(fs.existsSync(c.guest.overlayPath)).toBe(false);
      expect(sha256(base)).toBe(baseSum);
      expect(fs.existsSync(path.join(dir, "pwned"))).toBe(false);
    });
  });

  it("accepts the Linux guest of stacks/Pulumi.linux-uso-on.yaml (direct kernel boot, q35)", () => {
    const xml = domainXml(loadStack(projectDir, "linux-uso-on"));
    const file = path.join(dir, "linux-uso-on.xml");
    fs.writeFileSync(file, xml);
    lv.exec(["virsh", "define", file]);
    const defined = lv.virsh(["dumpxml", "--inactive", "linux-uso-lab"]);
    expect(defined).toContain("<kernel>/var/lib/offload-lab/images/vmlinuz</kernel>");
    expect(defined).toMatch(/machine='pc-q35-[0-9.]+'/);
    lv.virsh(["undefine", "linux-uso-lab"]);
  });
});
