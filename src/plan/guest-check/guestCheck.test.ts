import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../config/errors";
import type { LabConfig } from "../../config/model";
import { validateLab, type RawSettings } from "../../config/validate";
import { expectGuestStepChecked, overSsh, stepNamed } from "../../../test/support/guestStep";
import { expectInertLiteral, HOSTILE_POWERSHELL, inLiteral, parsePowershell, powershellParser } from "../../../test/support/powershellGrammar";
import { boundValue, shellcheck } from "../../../test/support/shellcheck";
import { everyStack, PROJECT } from "../../../test/support/stacks";
import { transportFor } from "../transport";
import { guestCheckStep } from "./step";

const guestDomain = stepNamed("guest-domain");
const checkOf = (cfg: LabConfig) => guestCheckStep(cfg, transportFor(cfg), { guestDomain });

const WINDOWS: RawSettings = { guest: { os: "windows", name: "w", baseImage: "/w.qcow2", virtioWinIso: "/v.iso" } };
const LINUX: RawSettings = { guest: { os: "linux", name: "l", baseImage: "/l.qcow2" } };
const withGuest = (base: RawSettings, guest: Record<string, unknown>): RawSettings => ({ ...base, guest: { ...(base.guest as Record<string, unknown>), ...guest } });

function problemsOf(f: () => unknown): string[] {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => p.key);
    throw e;
  }
  return [];
}

beforeAll(async () => {
  await powershellParser();
});

describe("the guest-check step", () => {
  for (const cfg of everyStack()) {
    it(`${cfg.stack}: guest script and host command match their golden files, lint clean and parse`, async () => {
      const step = checkOf(cfg);
      await expectGuestStepChecked(cfg, step);
      expect(step.guest!.language).toBe(cfg.guest.os === "windows" ? "ps1" : "sh");
      expect(step.dependsOn).toEqual([guestDomain]);
      expect(step.component).toBe("LabGuest");
      expect(step.effect.changes).toMatch(new RegExp(`^changes nothing: checks that guest ${cfg.guest.name} has `));
      expect(step.effect.undo).toBeUndefined();
    });
  }

  it("asks for iperf3 --gsro only when the matrix has gso senders", () => {
    const gso = everyStack().find((c) => c.guest.os === "linux" && c.matrix.senders.includes("gso"))!;
    expect(boundValue(checkOf(gso).guest!.script, "NEED_GSRO")).toBe("yes");
    const plain: LabConfig = { ...gso, matrix: { ...gso.matrix, senders: ["plain"] } };
    expect(boundValue(checkOf(plain).guest!.script, "NEED_GSRO")).toBe("no");
  });

  it("changes its trigger with the iperf3 path or the interface, not with an offload", () => {
    const cfg = everyStack().find((c) => c.guest.os === "linux")!;
    const base = checkOf(cfg).triggers;
    expect(checkOf({ ...cfg, guest: { ...cfg.guest, iperf3Path: "/opt/iperf3" } }).triggers).not.toEqual(base);
    expect(checkOf({ ...cfg, guest: { ...cfg.guest, linuxInterface: "eth1" } }).triggers).not.toEqual(base);
    expect(checkOf({ ...cfg, offloads: { ...cfg.offloads, mtu: 9000 } }).triggers).toEqual(base);
  });

  it("gives an SSH guest's step the key as a secret environment variable", () => {
    for (const cfg of everyStack()) {
      expect(checkOf(overSsh(cfg)).secretEnv).toEqual({ OFFLOAD_LAB_GUEST_SSH_KEY: "guestSshPrivateKey" });
      // A stack that reaches its guest over SSH (sandbox-ssh) has the key; the agent's need none.
      expect(checkOf(cfg).secretEnv, cfg.stack).toEqual(cfg.guest.access === "ssh" ? { OFFLOAD_LAB_GUEST_SSH_KEY: "guestSshPrivateKey" } : {});
    }
  });
});

describe("what guest-check prints", () => {
  for (const stack of ["sandbox-uso-off", "sandbox-uso-on"]) {
    it(`reads the output recorded from a real run (${stack})`, () => {
      const cfg = everyStack().find((c) => c.stack === stack)!;
      const recorded = fs.readFileSync(path.join(PROJECT, "test", "fixtures", "stdout", stack, "guest-check.out"), "utf8");
      expect(checkOf(cfg).parse(recorded)).toEqual({
        ok: true, missing: [], interface: "eth0", iperf3Path: "/usr/bin/iperf3", iperf3Version: "iperf 3.22 (cJSON 1.7.15)", kernel: "6.12.117+deb13-amd64",
      });
    });
  }

  it("reads what a Windows image lacks without judging it: the script has already failed the step", () => {
    const cfg = everyStack().find((c) => c.guest.os === "windows")!;
    const out = JSON.stringify({
      ok: false, missing: ["iperf3 at C:\\iperf3\\iperf3.exe (guest.iperf3Path)"], windows: "Microsoft Windows 11 Pro (build 26100)",
      adapter: "Ethernet", driverFileName: "netkvm.sys", driverVersion: "100.95.104.26200", iperf3Path: "C:\\iperf3\\iperf3.exe",
      iperf3Version: null, agentService: "Running",
    });
    expect(checkOf(cfg).parse(out)).toMatchObject({ ok: false, missing: ["iperf3 at C:\\iperf3\\iperf3.exe (guest.iperf3Path)"] });
    // The failure's wording, pointing at the docs, is the script's.
    expect(checkOf(cfg).guest!.script).toContain(
      `[Console]::Error.WriteLine("guest-check: the guest image lacks: " + ($missing -join '; ') + ' (see docs/windows-guest.md)')`,
    );
  });

  it("names the step when its stdout is not its JSON", () => {
    const step = checkOf(everyStack()[0]!);
    expect(() => step.parse("ethtool: command not found\n")).toThrow(/step guest-check printed no JSON document/);
    expect(() => step.parse('{"ok":"yes"}')).toThrow(/step guest-check printed unexpected JSON \(ok:/);
  });
});

describe("hostile strings in the guest check", () => {
  it.each(["/usr/bin/$(id)", "/usr/bin/`id`", "/usr/bin/ip'erf3", "/usr/bin/iperf3\nreboot"])("refuses the iperf3 path %j", (p) => {
    expect(problemsOf(() => validateLab("t", withGuest(LINUX, { iperf3Path: p })))).toEqual(["offload-lab:guest.iperf3Path"]);
  });

  it("runs a Linux guest check with a hostile but allowed iperf3 path without executing any of it", () => {
    const marker = `/tmp/ol-pwned-${process.pid}`;
    const hostile = `/nonexistent/iperf 3; touch ${marker} & (touch ${marker}) | >${marker}`;
    const cfg = validateLab("t", withGuest(LINUX, { iperf3Path: hostile, linuxInterface: "lo" }));
    const script = checkOf(cfg).guest!.script;
    const r = spawnSync("dash", ["-s"], { input: script, encoding: "utf8" });
    expect(fs.existsSync(marker)).toBe(false);
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout) as { missing: string[]; iperf3Path: string };
    expect(out.iperf3Path).toBe(hostile);
    expect(out.missing).toEqual([`iperf3 at ${hostile} (guest.iperf3Path)`]);
    expect(r.stderr).toBe(`guest-check: the guest image lacks: iperf3 at ${hostile} (guest.iperf3Path)\n`);
  });

  it("binds a hostile iperf3 path, interface and MAC, the schema bypassed, as exactly themselves", () => {
    const hostile = "x'$(touch /tmp/ol-pwned)`id`\n\"y\" \\ ;";
    const cfg = everyStack().find((c) => c.guest.os === "linux")!;
    const script = checkOf({ ...cfg, guest: { ...cfg.guest, iperf3Path: hostile, linuxInterface: hostile, mac: hostile } }).guest!.script;
    for (const name of ["IPERF3", "OL_LINUX_INTERFACE", "OL_MAC"]) expect(boundValue(script, name)).toBe(hostile);
    expect(shellcheck(script, "sh")).toEqual([]);
  });

  it("doubles PowerShell's typographic quotes in an iperf3 path", () => {
    const cfg = validateLab("t", withGuest(WINDOWS, { iperf3Path: "C:\\it’s ‘x’\\iperf3.exe; calc & y" }));
    expect(checkOf(cfg).guest!.script).toContain("  Iperf3Path = 'C:\\it’’s ‘‘x’’\\iperf3.exe; calc & y'\n");
  });

  for (const value of HOSTILE_POWERSHELL) {
    it(`keeps ${JSON.stringify(value)}, the schema bypassed, inert inside one literal`, async () => {
      const base = everyStack().find((c) => c.stack === "mtu9000-uso-on")!;
      const byName: LabConfig = { ...base, guest: { ...base.guest, adapterName: value, iperf3Path: value } };
      const byMac: LabConfig = { ...base, guest: { ...base.guest, adapterName: undefined, mac: value } };
      let seen = 0;
      for (const [cfg, form] of [[byName, inLiteral(value)], [byMac, inLiteral(value.toUpperCase().replace(/:/g, "-"))]] as const) {
        const script = checkOf(cfg).guest!.script;
        const tree = await parsePowershell(script);
        expect(tree.rootNode.hasError).toBe(false);
        seen += expectInertLiteral(tree, script, form);
      }
      // The adapter name and the iperf3 path, then the MAC.
      expect(seen).toBe(3);
    });
  }
});

// Issue 18 item 4: the guest's prerequisites, checked first.
describe("guest-check's round trip, its very first action", () => {
  const linux = everyStack().find((c) => c.stack === "linux-uso-on")!;
  const windows = everyStack().find((c) => c.stack === "mtu9000-uso-on")!;
  const transport = (body: string) => ({ kind: "netns" as const, description: "a stand-in transport", functionDefinition: `guest_exec() { ${body}; }`, secretEnv: {}, hostTools: [] });
  const marker = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ol-round-trip-")), "ran");
  const stepWith = (t: ReturnType<typeof transport>, cfg: LabConfig = linux) =>
    guestCheckStep({ ...cfg, guest: { ...cfg.guest, iperf3Path: "/nonexistent" } }, t, { guestDomain });

  it("comes before the step's own script, in the host command of both guest kinds", () => {
    for (const cfg of [linux, windows]) {
      const create = checkOf(cfg).create;
      const roundTrip = create.indexOf("ol_round_trip \"offload-lab round trip: stdin in, stdout out\" <<'OFFLOAD_LAB_ROUND_TRIP_");
      expect(roundTrip, cfg.stack).toBeGreaterThan(0);
      expect(roundTrip).toBeLessThan(create.indexOf("guest_exec <<'OFFLOAD_LAB_GUEST_SCRIPT_"));
    }
    expect(checkOf(windows).create).toContain("\n[Console]::Out.WriteLine('offload-lab round trip: stdin in, stdout out')\n");
    expect(checkOf(linux).create).toContain("\necho 'offload-lab round trip: stdin in, stdout out'\n");
  });

  it("passes through a transport that carries stdin in and stdout back, then runs the check", () => {
    // sh -s reads the guest script from stdin, as the agent's /bin/sh -s and the loader do.
    const r = spawnSync("bash", ["-c", stepWith(transport("sh -s")).create], { encoding: "utf8" });
    expect(r.stderr).not.toContain("could not run a one-line script");
    // The check itself ran (and found the iperf3 path missing).
    expect(r.stdout).toContain('"iperf3Path":"/nonexistent"');
    expect(shellcheck(stepWith(transport("sh -s")).create, "bash")).toEqual([]);
  });

  it("stops with what to do when the transport loses stdin, and runs nothing after it", () => {
    const lost = transport(`cat >/dev/null; sh -c 'touch ${marker}; true' </dev/null`);
    const r = spawnSync("bash", ["-c", stepWith(lost).create], { encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("offload-lab: the first guest step could not run a one-line script through a stand-in transport (exit 0, printed '';");
    expect(r.stderr).toContain("pass guest-exec input-data to the program's stdin; if it does not, use guest.access ssh (docs/windows-guest.md)");
    expect(r.stdout).toBe("");
    // One guest_exec (the round trip); the check's own never started.
    expect(fs.existsSync(marker)).toBe(true);
    fs.rmSync(marker);
    const failing = transport("cat >/dev/null; echo 'agent: not connected' >&2; return 125");
    const f = spawnSync("bash", ["-c", stepWith(failing).create], { encoding: "utf8" });
    expect(f.status).toBe(1);
    expect(f.stderr).toContain("(exit 125, printed ''; stderr: agent: not connected )");
  });
});

describe("the Windows prerequisites", () => {
  const windows = everyStack().find((c) => c.stack === "mtu9000-uso-on")!;
  const script = (cfg: LabConfig) => checkOf(cfg).guest!.script;

  it("asks for build 19041 when the stack sends with uso or sets the guest's USO, and for no build otherwise", () => {
    expect(script(windows)).toContain("  MinimumBuild = 19041\n");
    const plainOff: LabConfig = { ...windows, matrix: { ...windows.matrix, senders: ["plain"] }, offloads: { ...windows.offloads, uso: { ipv4: false, ipv6: false } } };
    expect(script(plainOff)).toContain("  MinimumBuild = 0\n");
    expect(script(windows)).toContain('$missing += "Windows build $MinimumBuild or later (Windows 10 2004 / Server 2022: UDP_SEND_MSG_SIZE, which the uso sender and USO need); this guest is build $build"');
  });

  it("refuses iperf3 older than 3.2 (3.1.3 has no --connect-timeout, which every cell passes)", () => {
    expect(script(windows)).toContain("if ($iperf3Version -match 'iperf (\\d+)\\.(\\d+)' -and ([int]$Matches[1] -lt 3 -or ([int]$Matches[1] -eq 3 -and [int]$Matches[2] -lt 2))) {");
    expect(script(windows)).toContain('$missing += "iperf3 3.2 or newer at $($Iperf3Path) (every cell passes --connect-timeout, which older builds refuse); it is: $iperf3Version"');
  });

  it("records the NetKVM build from the driver's WMI classes and says unverified below mm320", () => {
    const s = script(windows);
    expect(s).toContain("if (@($class.CimClassProperties | Where-Object { $_.Name -eq 'UsoEnabledv4' }).Count -gt 0) { return 'mm320+' }");
    expect(s).toContain("$driverReadBack = $(if ($netkvmBuild -eq 'mm320+') { 'verified' } else { 'unverified' })");
    const printed = JSON.stringify({
      ok: true, missing: [], windows: "Microsoft Windows 11 Pro (build 26100)", windowsBuild: 26100, netkvmBuild: "mm268-mm319", driverReadBack: "unverified",
      adapter: "Ethernet", driverFileName: "netkvm.sys", driverVersion: "100.100.104.27100", iperf3Path: "C:\\iperf3\\iperf3.exe", iperf3Version: "iperf 3.17.1", agentService: "Running",
    });
    expect(checkOf(windows).parse(printed)).toMatchObject({ netkvmBuild: "mm268-mm319", driverReadBack: "unverified", windowsBuild: 26100 });
  });

  it("does not count NetKVM missing when the lab installs it (guest.installNetkvm), and plans netkvm-install after it", () => {
    const installing: LabConfig = { ...windows, guest: { ...windows.guest, installNetkvm: true } };
    expect(script(installing)).toContain("  NetkvmInstalledByLab = $true\n");
    expect(script(windows)).toContain("  NetkvmInstalledByLab = $false\n");
  });
});

describe("the round trip's message with a hostile transport description", () => {
  it("binds it as exactly itself, and the command stays shellcheck-clean", () => {
    const hostile = "agent of w$(touch /tmp/ol-pwned)'`id`\n;x";
    const cfg = everyStack().find((c) => c.stack === "mtu9000-uso-on")!;
    const t = { kind: "netns" as const, description: hostile, functionDefinition: "guest_exec() { cat >/dev/null; }", secretEnv: {}, hostTools: [] };
    const create = guestCheckStep(cfg, t, { guestDomain }).create;
    expect(boundValue(create, "OL_TRANSPORT")).toBe(hostile);
    expect(shellcheck(create, "bash")).toEqual([]);
    const r = spawnSync("bash", ["-c", create], { encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`through ${hostile} (exit 0`);
    expect(fs.existsSync("/tmp/ol-pwned")).toBe(false);
  });
});
