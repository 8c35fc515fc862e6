import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { LabConfig } from "../../src/config/model";
import { loadStack } from "../../src/config/stackFile";
import { netkvmInstallScript } from "../../src/plan/offload/netkvmInstall";
import { windowsOffloadScript } from "../../src/plan/offload/windowsGuest";
import { ps } from "../../src/plan/quote";
import { agentTransport } from "../../src/plan/transport";
import { POWERSHELL_LOADER } from "../../src/plan/transport/powershellLoader";
import { netkvmInstallResult, netkvmResult } from "../../src/results/netkvm";
import { describeErrors, parsePowershell } from "../support/powershellGrammar";

// One test (or group) per defect of issue 12, each against the rendered script or the pure
// comparison; with test/plan/powershell-grammar.test.ts for the parse check of all of it. The
// benchmark cells' points (1, 5, 7, 8) are tested beside the cells:
// src/plan/benchmark/windowsCell.test.ts.

const ROOT = path.join(__dirname, "..", "..");
const cfg = loadStack(ROOT, "mtu9000-uso-on");

async function expectParses(source: string): Promise<void> {
  const tree = await parsePowershell(source);
  expect(tree.rootNode.hasError, describeErrors(tree, source)).toBe(false);
}

/** A guest-offloads read-back as windowsOffloadScript prints it (crafted: no Windows here). */
function readBack(over: Record<string, unknown> = {}): string {
  return JSON.stringify({
    adapter: "Ethernet", interfaceDescription: "Red Hat VirtIO Ethernet Adapter", driverFileName: "netkvm.sys",
    driverVersion: "100.100.104.32000", driverDate: "6-1-2026", linkStatus: "Up", readiness: "ready", restarted: true,
    mtuSize: 9000, ipMtu: 9000,
    properties: [
      { keyword: "*UsoIPv4", requested: "1", registryValue: "1", displayValue: "Enabled" },
      { keyword: "*UsoIPv6", requested: "1", registryValue: "1", displayValue: "Enabled" },
      { keyword: "*JumboPacket", requested: "9014", registryValue: "9014", displayValue: "9014" },
    ],
    setErrors: [], usoDriver: { ipv4: "on", ipv6: "on" },
    netkvmConfig: { UsoEnabledv4: 1, UsoEnabledv6: 1 }, netkvmDiag: { tx: { UdpOffload: 7 } },
    ...over,
  });
}

describe("2: USO as the driver has it, not as the registry says", () => {
  it("fails when the registry says Enabled and NetKvm_Config says off", () => {
    const r = netkvmResult(cfg, readBack({ usoDriver: { ipv4: "off", ipv6: "on" } }));
    expect(r.error).toBe(
      "offload settings did not take: guest Ethernet: NetKvm_Config.UsoEnabledv4 requested on, actual off while the registry says 1 (Enabled)",
    );
  });
  it("reports unverified, and does not fail, where the driver has no UsoEnabled flags", () => {
    const r = netkvmResult(cfg, readBack({ usoDriver: { ipv4: "unverified", ipv6: "unverified" }, netkvmConfig: { NumOfQueues: 1 } }));
    expect(r.error).toBeNull();
    expect(r.readBack.usoDriver).toEqual({ ipv4: "unverified", ipv6: "unverified" });
  });
  it("the script reads UsoEnabledv4/v6 and words the failure as the comparison does", async () => {
    const script = windowsOffloadScript(cfg);
    expect(script).toContain("$usoDriver = [ordered]@{ ipv4 = Get-UsoDriverFlag 'UsoEnabledv4'; ipv6 = Get-UsoDriverFlag 'UsoEnabledv6' }");
    expect(script).toContain("NetKvm_Config.UsoEnabledv6 requested on, actual $($usoDriver['ipv6']) while the registry says $(Get-RegistryText '*UsoIPv6')");
    await expectParses(script);
  });
});

describe("3: the adapter's real MTU, which the device sets", () => {
  it("fails when MtuSize or NlMtu differs from the stack's MTU, *JumboPacket notwithstanding", () => {
    expect(netkvmResult(cfg, readBack({ mtuSize: 1500, ipMtu: 1500 })).error).toBe(
      "offload settings did not take: guest Ethernet: MtuSize requested 9000, actual 1500; guest Ethernet: NlMtu requested 9000, actual 1500",
    );
    expect(netkvmResult(cfg, readBack({ ipMtu: null })).error).toBe("offload settings did not take: guest Ethernet: NlMtu requested 9000, actual absent");
  });
  it("the script checks both against the stack's MTU", () => {
    const script = windowsOffloadScript(cfg);
    expect(script).toContain("$mtuWanted = '9000'");
    expect(script).toContain('if ("$($adapter.MtuSize)" -ne $mtuWanted)');
    expect(script).toContain('if ("$ipMtu" -ne $mtuWanted)');
  });
});

describe("4: no CLIXML on stderr", () => {
  it("the loader sets the preferences and writes every record as a plain line", async () => {
    expect(POWERSHELL_LOADER).toContain("$ProgressPreference = 'SilentlyContinue'");
    expect(POWERSHELL_LOADER).toContain("& $guestScript *>&1 | ForEach-Object {");
    expect(POWERSHELL_LOADER).toContain('[System.Management.Automation.ErrorRecord]) { [Console]::Error.WriteLine("error: $_") }');
    expect(POWERSHELL_LOADER).toContain("[System.Management.Automation.WarningRecord]) { [Console]::Error.WriteLine(\"warning: $($_.Message)\") }");
    await expectParses(POWERSHELL_LOADER);
  });
  it("and UTF-8 on both streams, explicitly", () => {
    expect(POWERSHELL_LOADER).toContain("[Console]::SetOut($stdout)");
    expect(POWERSHELL_LOADER).toContain("[Console]::SetError($stderr)");
    expect(POWERSHELL_LOADER).toContain("$utf8 = New-Object System.Text.UTF8Encoding $false");
  });
});

describe("5: the guest gives up before the host, and the host stops the guest's sender", () => {
  const tempDirs: string[] = [];
  afterEach(() => {
    for (const d of tempDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  it("guest_stop ends the recorded guest pid with a second guest-exec of taskkill /T", () => {
    const state = fs.mkdtempSync(path.join(os.tmpdir(), "ol-stop-"));
    tempDirs.push(state);
    const fixtures = path.join(ROOT, "test", "fixtures", "agent");
    const t = agentTransport({ uri: "qemu:///system", domain: "win-uso-lab", os: "windows", timeoutSeconds: 1 });
    const pidFile = path.join(state, "cell.pid");
    const r = spawnSync("bash", ["-c", `${t.functionDefinition}\necho x | guest_exec; echo "rc=$?"; guest_stop "$OL_GUEST_PID_FILE"`], {
      encoding: "utf8",
      env: { ...process.env, PATH: `${fixtures}:${process.env.PATH}`, FAKE_VIRSH_REPLIES: path.join(fixtures, "never-exits"), FAKE_VIRSH_STATE: state, OL_GUEST_PID_FILE: pidFile },
    });
    expect(r.stdout).toContain("rc=124");
    expect(fs.readFileSync(pidFile, "utf8")).toBe("32163\n");
    const calls = fs.readFileSync(path.join(state, "calls.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(calls.at(-1).request).toEqual({
      execute: "guest-exec",
      arguments: { path: "taskkill.exe", arg: ["/F", "/T", "/PID", "32163"], "capture-output": true },
    });
    expect(r.stderr).toContain("guest_stop: asked the guest to end pid 32163 in win-uso-lab");
  });
});

describe("6: the restart wait waits for what the matrix needs", () => {
  const script = windowsOffloadScript(cfg);
  it("a preferred IPv4 address and the host answering, with the adapter looked up every round", async () => {
    expect(script).toContain("Where-Object { [string]$_.AddressState -eq 'Preferred' }");
    expect(script).toContain("(New-Object System.Net.NetworkInformation.Ping).Send($hostAddress, 1000)");
    expect(script).toContain("$hostAddress = '192.168.122.1'");
    expect(script).toMatch(/do \{\n {2}\$adapterMac = .*\n.*\n {2}\$adapter = @\(Get-NetAdapter -Physical -ErrorAction SilentlyContinue /);
    await expectParses(script);
  });
  it("and the comparison fails a guest that never got there", () => {
    expect(netkvmResult(cfg, readBack({ readiness: "no preferred IPv4 address" })).error).toBe(
      "offload settings did not take: guest Ethernet: readiness requested ready, actual no preferred IPv4 address",
    );
  });
});

describe("8: smaller points", () => {
  it("embedded WMI instances are flattened to name and value before ConvertTo-Json", () => {
    const script = windowsOffloadScript(cfg);
    expect(script).toContain("foreach ($p in $value.CimInstanceProperties) { $flat[$p.Name] = ConvertFrom-CimValue $p.Value }");
    expect(script).toContain("$values[$p.Name] = ConvertFrom-CimValue $p.Value");
  });
  it("pnputil 3010 is reported as rebootRequired with its own exit code, 259 as no matching device", () => {
    const script = netkvmInstallScript(cfg);
    expect(script).toContain("exit 3\n");
    expect(script).toContain("pnputil exit 259: no device matches this netkvm.inf");
    const out = JSON.stringify({
      inf: "E:\\NetKVM\\w11\\amd64\\netkvm.inf", windows: "Microsoft Windows 11 Pro (build 26100)", pnputilExitCode: 3010,
      rebootRequired: true, pnputilOutput: "Driver package installed.", adapter: "Ethernet", driverVersion: "100.95.104.26200", driverDate: "7-3-2024",
    });
    expect(netkvmInstallResult(out).error).toMatch(/^netkvm-install: NetKVM is installed but Windows must restart .*pnputil exit 3010/);
  });
  it("netkvm-install indents its template, never a value", () => {
    const odd: LabConfig = { ...cfg, guest: { ...cfg.guest, adapterName: "Ether\nnet" } };
    const script = netkvmInstallScript(odd);
    expect(script).toContain(`  $adapterName = ${ps("Ether\nnet")}\n`);
    expect(script).not.toContain("Ether\n  net");
  });
  it("the agent transport keeps a control character in the domain name out of its bash comment", () => {
    const marker = path.join(os.tmpdir(), `ol-comment-${process.pid}`);
    const t = agentTransport({ uri: "qemu:///system", domain: `lab\ntouch ${marker}\r`, os: "windows", timeoutSeconds: 1 });
    expect(t.functionDefinition.split("\n")[0]).toBe(`# guest_exec: the QEMU guest agent of labtouch ${marker} via virsh`);
    const r = spawnSync("bash", ["-c", t.functionDefinition], { encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(fs.existsSync(marker)).toBe(false);
  });
});
