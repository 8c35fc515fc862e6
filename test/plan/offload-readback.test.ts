import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/errors";
import { validateLab, type RawSettings } from "../../src/config/validate";
import { linuxRequest, netkvmRequest } from "../../src/plan/offload/request";
import { windowsOffloadScript } from "../../src/plan/offload/windowsGuest";
import { compareEthtool, parseEthtoolFeatures } from "../../src/results/ethtool";
import { netkvmResult, parseNetkvmInstall } from "../../src/results/netkvm";
import { describeMismatch, guestOffloadsResult, linuxOffloadsResult, offloadStepResult } from "../../src/results/offload";
import { guestCheckResult } from "../../src/results/offloadGuestCheck";

// The pure side: what a profile asks of each driver, and the read-back comparison. Windows
// read-backs here are crafted in the shape the guest-offloads script prints (no Windows
// guest on this machine); Linux ones come from real ethtool in test/lab/ethtool-offloads.

const WINDOWS = { os: "windows", name: "w", baseImage: "/w.qcow2", virtioWinIso: "/v.iso" };
const LINUX = { os: "linux", name: "l", baseImage: "/l.qcow2" };
const win = (guestOffloads: RawSettings, guest: RawSettings = {}) =>
  validateLab("t", { guest: { ...WINDOWS, ...guest }, network: { mtu: 9000 }, guestOffloads });
const lin = (guestOffloads: RawSettings) => validateLab("t", { guest: LINUX, network: { mtu: 9000 }, guestOffloads });

function configErrorKeys(f: () => unknown): string[] {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => `${p.key}: ${p.allowed}`);
    throw e;
  }
  return [];
}

describe("NetKVM request", () => {
  it("maps every profile field to its keyword, checksums first, and the MTU to *JumboPacket", () => {
    const req = netkvmRequest(win({
      uso: { ipv4: true, ipv6: false },
      lso: { ipv4: false },
      rsc: { ipv6: true },
      checksum: { ipv4: "off", tcpv4: "tx", tcpv6: "rx", udpv4: "rxtx", udpv6: "rxtx" },
    }).offloads);
    expect(req.settings.map((s) => `${s.keyword}=${s.value}`)).toEqual([
      "*IPChecksumOffloadIPv4=0", "*TCPChecksumOffloadIPv4=1", "*TCPChecksumOffloadIPv6=2",
      "*UDPChecksumOffloadIPv4=3", "*UDPChecksumOffloadIPv6=3",
      "*LsoV2IPv4=0", "*UsoIPv4=1", "*UsoIPv6=0", "*RscIPv6=1",
    ]);
    expect([req.mtu, req.jumboPacket]).toEqual([9000, 9014]);
  });

  it("leaves unset fields alone", () => {
    expect(netkvmRequest(win({}).offloads).settings).toEqual([]);
  });

  it("gives the script both MTU forms, picked by what the driver has", () => {
    const script = windowsOffloadScript(win({ mtu: 1500 }));
    expect(script).toContain("$requested += @{ Keyword = 'MTU'; Value = '1500' }");
    expect(script).toContain("$requested += @{ Keyword = '*JumboPacket'; Value = '1514' }");
    expect(script).toContain("-NoRestart");
    expect(script.match(/Restart-NetAdapter/g)).toHaveLength(1);
  });
});

describe("Linux request", () => {
  it("maps USO, LSO, RSC, checksums and extras to virtio_net's ethtool features", () => {
    const req = linuxRequest(lin({
      uso: { ipv4: true, ipv6: true },
      lso: { ipv4: true, ipv6: false },
      rsc: { ipv4: false },
      checksum: { udpv4: "tx", tcpv4: "tx" },
      ethtool: { "rx-udp-gro-forwarding": "on" },
    }));
    expect(req.features.map(([f, v]) => `${f}=${v}`)).toEqual([
      "tx-checksum-ip-generic=on", "rx-checksum=off", "tx-tcp-segmentation=on", "tx-tcp6-segmentation=off",
      "tx-udp-segmentation=on", "rx-gro-hw=off", "rx-udp-gro-forwarding=on",
    ]);
    expect(req.mtu).toBe(9000);
  });

  it("refuses a profile that asks two things of one Linux feature, naming the keys", () => {
    expect(configErrorKeys(() => linuxRequest(lin({ uso: { ipv4: true, ipv6: false } })))).toEqual([
      "offload-lab:guestOffloads.uso.ipv6: must agree with guestOffloads.uso.ipv4 (on): a Linux guest has the single ethtool feature tx-udp-segmentation for both",
    ]);
    expect(configErrorKeys(() => linuxRequest(lin({ checksum: { tcpv4: "rxtx", udpv6: "tx" } })))).toEqual([
      "offload-lab:guestOffloads.checksum.udpv6: must agree with guestOffloads.checksum.tcpv4 (on): a Linux guest has the single ethtool feature rx-checksum for both",
    ]);
    expect(configErrorKeys(() => linuxRequest(lin({ uso: { ipv4: true }, ethtool: { "tx-udp-segmentation": "off" } })))).toHaveLength(1);
    expect(configErrorKeys(() => linuxRequest(lin({ checksum: { ipv4: "rxtx" } })))[0]).toMatch(/^offload-lab:guestOffloads.checksum.ipv4: is only for a Windows guest/);
  });
});

describe("ethtool read-back", () => {
  const TEXT = [
    "Features for eth0:",
    "rx-checksumming: on [fixed]",
    "tx-checksumming: on",
    "\ttx-checksum-ip-generic: on",
    "generic-receive-offload: on",
    "rx-gro-hw: off [fixed]",
    "tx-udp-segmentation: off [requested on]",
    "",
  ].join("\n");

  it("parses states and notes, under the names ethtool prints", () => {
    const f = parseEthtoolFeatures(TEXT);
    expect(f.get("rx-checksumming")).toEqual({ active: true, note: "[fixed]", fixed: true });
    expect(f.get("tx-checksum-ip-generic")).toEqual({ active: true, note: "", fixed: false });
    expect(f.get("tx-udp-segmentation")).toEqual({ active: false, note: "[requested on]", fixed: false });
    expect(f.has("Features for eth0")).toBe(false);
  });

  it("compares by the printed name, and names requested and actual", () => {
    const m = compareEthtool("guest eth0", [
      ["rx-checksum", "on"], ["rx-gro", "on"], ["rx-gro-hw", "on"], ["tx-udp-segmentation", "on"], ["rx-gro-list", "off"],
    ], parseEthtoolFeatures(TEXT));
    expect(m.map(describeMismatch)).toEqual([
      "guest eth0: rx-gro-hw requested on, actual off [fixed]",
      "guest eth0: tx-udp-segmentation requested on, actual off [requested on]",
      "guest eth0: rx-gro-list requested off, actual absent",
    ]);
  });

  it("names the step when stdout is not its JSON document", () => {
    expect(() => linuxOffloadsResult(lin({}), "ethtool: command not found\n")).toThrow(/^guest-offloads: stdout is not one JSON document/);
    expect(() => linuxOffloadsResult(lin({}), '{"interface":"eth0"}')).toThrow(/^guest-offloads: unexpected read-back: ethtoolK/);
  });

  it("says a USO fixed off is the device's doing: it does not offer USO", () => {
    const out = JSON.stringify({ interface: "eth0", ethtoolK: "Features for eth0:\ntx-udp-segmentation: off [fixed]\n", ipLink: [{ ifname: "eth0", mtu: 9000 }], setErrors: "" });
    expect(linuxOffloadsResult(lin({ uso: { ipv4: true } }), out).error).toBe(
      "offload settings did not take: guest eth0: tx-udp-segmentation requested on, actual off [fixed]; " +
        "the virtio-net device does not offer USO (QEMU's host_uso is off, or QEMU is older than 8.2): set guest.virtioNetFeatures host_uso on",
    );
    const settable = out.replace("off [fixed]", "off [requested on]");
    expect(linuxOffloadsResult(lin({ uso: { ipv4: true } }), settable).error).not.toContain("does not offer");
  });

  it("reports an MTU that did not take", () => {
    const out = JSON.stringify({ interface: "eth0", ethtoolK: "Features for eth0:\n", ipLink: [{ ifname: "eth0", mtu: 1500 }], setErrors: "eth0 mtu 9000: Error: mtu greater than device maximum.\n" });
    expect(linuxOffloadsResult(lin({}), out).error).toBe("offload settings did not take: guest eth0: mtu requested 9000, actual 1500");
  });
});

/** A read-back in the shape windowsOffloadScript prints (crafted: no Windows guest here). */
function netkvmOutput(over: Record<string, unknown> = {}) {
  return JSON.stringify({
    adapter: "Ethernet",
    interfaceDescription: "Red Hat VirtIO Ethernet Adapter",
    driverFileName: "netkvm.sys",
    driverVersion: "100.95.104.26200",
    driverDate: "7-3-2024",
    linkStatus: "Up",
    readiness: "ready",
    restarted: true,
    mtuSize: 9000,
    ipMtu: 9000,
    properties: [
      { keyword: "*UsoIPv4", requested: "1", registryValue: "1", displayValue: "Enabled" },
      { keyword: "*UsoIPv6", requested: "1", registryValue: "1", displayValue: "Enabled" },
      { keyword: "*JumboPacket", requested: "9014", registryValue: "9014", displayValue: "9014" },
    ],
    setErrors: [],
    usoDriver: { ipv4: "on", ipv6: "on" },
    netkvmConfig: { UsoEnabledv4: 1, UsoEnabledv6: 1 },
    netkvmDiag: { tx: { LargeOffload: 0, UdpOffload: 0 } },
    ...over,
  });
}

describe("NetKVM read-back", () => {
  const cfg = win({ uso: { ipv4: true, ipv6: true } });

  it("passes when every keyword reads back as requested, and keeps WMI evidence", () => {
    const r = guestOffloadsResult(cfg, netkvmOutput());
    expect(r.error).toBeNull();
    expect(r.readBack).toMatchObject({ os: "windows", driverVersion: "100.95.104.26200", netkvmConfig: { UsoEnabledv4: 1 } });
  });

  it("names a value that did not stick, a keyword the driver lacks and a link that stayed down", () => {
    const r = netkvmResult(cfg, netkvmOutput({
      linkStatus: "Disconnected",
      readiness: "link Disconnected",
      usoDriver: { ipv4: "unverified", ipv6: "unverified" },
      properties: [
        { keyword: "*UsoIPv4", requested: "1", registryValue: "0", displayValue: "Disabled" },
        { keyword: "*UsoIPv6", requested: "1", registryValue: null, displayValue: null },
        { keyword: "*JumboPacket", requested: "9014", registryValue: "9014", displayValue: "9014" },
      ],
      netkvmConfig: null,
      netkvmDiag: null,
    }));
    expect(r.error).toBe(
      "offload settings did not take: guest Ethernet: *UsoIPv4 requested 1, actual 0 (Disabled); " +
        "guest Ethernet: *UsoIPv6 requested 1, actual absent; guest Ethernet: readiness requested ready, actual link Disconnected",
    );
  });

  it("checks the old MTU keyword against the IP MTU on drivers before virtio-win 0.1.190", () => {
    const props = (mtu: string) => [
      { keyword: "*UsoIPv4", requested: "1", registryValue: "1", displayValue: "Enabled" },
      { keyword: "*UsoIPv6", requested: "1", registryValue: "1", displayValue: "Enabled" },
      { keyword: "MTU", requested: "9000", registryValue: mtu, displayValue: mtu },
    ];
    expect(netkvmResult(cfg, netkvmOutput({ properties: props("9000") })).error).toBeNull();
    expect(netkvmResult(cfg, netkvmOutput({ properties: props("1500") })).error).toBe(
      "offload settings did not take: guest Ethernet: MTU requested 9000, actual 1500 (1500)",
    );
  });

  it("checks against the config, not against what the script says was requested", () => {
    const out = netkvmOutput({
      properties: [
        { keyword: "*UsoIPv4", requested: "0", registryValue: "0", displayValue: "Disabled" },
        { keyword: "*UsoIPv6", requested: "1", registryValue: "1", displayValue: "Enabled" },
        { keyword: "*JumboPacket", requested: "9014", registryValue: "9014", displayValue: "9014" },
      ],
      usoDriver: { ipv4: "off", ipv6: "on" },
    });
    expect(netkvmResult(cfg, out).error).toContain("*UsoIPv4 requested 1, actual 0 (Disabled)");
  });

  it("words mismatches in the script as the comparison does", () => {
    const script = windowsOffloadScript(cfg);
    expect(script).toContain('$where = "guest $($adapter.Name)"');
    expect(script).toContain('"$($where): $($r.Keyword) requested $($r.Value), actual absent"');
    expect(script).toContain('"$($where): $($r.Keyword) requested $($r.Value), actual $value ($($p.DisplayValue))"');
    expect(script).toContain('"$($where): readiness requested ready, actual $readiness"');
    expect(script).toContain('"$($where): NetKvm_Config.UsoEnabledv4 requested on, actual $($usoDriver[\'ipv4\']) while the registry says $(Get-RegistryText \'*UsoIPv4\')"');
    expect(script).toContain('"$($where): MtuSize requested $mtuWanted, actual $(');
    expect(script).toContain('"offload settings did not take: " + ($fail -join \'; \')');
  });

  it("parses what netkvm-install recorded", () => {
    const out = JSON.stringify({
      inf: "E:\\NetKVM\\w11\\amd64\\netkvm.inf", windows: "Microsoft Windows 11 Pro (build 26100)", pnputilExitCode: 3010,
      rebootRequired: true, pnputilOutput: "Driver package installed.", adapter: "Ethernet", driverVersion: "100.100.104.27100", driverDate: "5-14-2025",
    });
    expect(parseNetkvmInstall(out)).toMatchObject({ rebootRequired: true, driverVersion: "100.100.104.27100" });
  });
});

describe("guest-check read-back", () => {
  it("names what a Windows image lacks, pointing at the docs", () => {
    const r = guestCheckResult(JSON.stringify({
      ok: false, missing: ["iperf3 at C:\\iperf3\\iperf3.exe (guest.iperf3Path)"], windows: "Microsoft Windows 11 Pro (build 26100)",
      adapter: "Ethernet", driverFileName: "netkvm.sys", driverVersion: "100.95.104.26200", iperf3Path: "C:\\iperf3\\iperf3.exe",
      iperf3Version: null, agentService: "Running",
    }));
    expect(r.error).toBe("guest-check: the guest image lacks: iperf3 at C:\\iperf3\\iperf3.exe (guest.iperf3Path) (see docs/windows-guest.md)");
  });
});

describe("offloadStepResult", () => {
  it("dispatches by step name and refuses other steps", () => {
    const cfg = win({ uso: { ipv4: true, ipv6: true } });
    expect(offloadStepResult(cfg, "guest-offloads", netkvmOutput()).error).toBeNull();
    expect(offloadStepResult(cfg, "host-offloads", '{"devices":[],"setErrors":""}').readBack).toEqual({ devices: [], setErrors: "" });
    expect(() => offloadStepResult(cfg, "guest-domain", "{}")).toThrow("guest-domain is not an offload step");
  });
});
