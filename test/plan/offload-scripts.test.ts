import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/errors";
import { SecretValue } from "../../src/config/secret";
import { listStacks, loadStack } from "../../src/config/stackFile";
import { validateLab, type RawSettings } from "../../src/config/validate";
import { JSON_SH_FUNCTIONS } from "../../src/plan/offload/shLib";
import { offloadSteps } from "../../src/plan/offload/steps";
import { guestStepCommand, transportFor } from "../../src/plan/transport";
import { expectGolden } from "../support/golden";

const PROJECT = path.join(__dirname, "..", "..");

describe("offload steps of every stack (golden files)", () => {
  for (const stack of listStacks(PROJECT)) {
    it(stack, () => {
      const cfg = loadStack(PROJECT, stack);
      const steps = offloadSteps(cfg, transportFor(cfg), { netkvmInstall: true });
      for (const step of steps) {
        expectGolden(`offload/${stack}/${step.name}.${step.language}`, step.create);
        if (step.delete !== undefined) expectGolden(`offload/${stack}/${step.name}.delete.sh`, step.delete);
      }
      const guest = steps.find((s) => s.name === "guest-offloads")!;
      expectGolden(`offload/${stack}/guest-offloads.host.sh`, guestStepCommand(transportFor(cfg), guest.create));
    });
  }
});

const WINDOWS: RawSettings = {
  guest: { os: "windows", name: "w", baseImage: "/w.qcow2", virtioWinIso: "/v.iso" },
};
const LINUX: RawSettings = { guest: { os: "linux", name: "l", baseImage: "/l.qcow2" } };

function withGuest(base: RawSettings, guest: Record<string, unknown>, rest: RawSettings = {}): RawSettings {
  return { ...base, ...rest, guest: { ...(base.guest as Record<string, unknown>), ...guest } };
}

function problemsOf(f: () => unknown): string[] {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => p.key);
    throw e;
  }
  return [];
}

describe("hostile strings in guest scripts", () => {
  it.each([
    "Ether'net", "Eth$(calc)", "Eth`whoami`", "Ethernet\nStop-Computer", "Eth\"ernet", "Eth’ernet", "Eth;rm", "*",
  ])("refuses the adapter name %j", (name) => {
    expect(problemsOf(() => validateLab("t", withGuest(WINDOWS, { adapterName: name })))).toEqual(["offload-lab:guest.adapterName"]);
  });

  it("keeps an allowed adapter name with spaces, parentheses and '#' one PowerShell literal", () => {
    const cfg = validateLab("t", withGuest(WINDOWS, { adapterName: "Ethernet (2) #1" }));
    const script = offloadSteps(cfg, transportFor(cfg)).find((s) => s.name === "guest-offloads")!.create;
    expect(script).toContain("$adapterName = 'Ethernet (2) #1'");
    // Compared with -eq, never given to -Name, where [ ] * ? would be wildcards.
    expect(script).not.toMatch(/-Name \$adapterName/);
  });

  it("doubles PowerShell's typographic quotes in an iperf3 path", () => {
    const cfg = validateLab("t", withGuest(WINDOWS, { iperf3Path: "C:\\it’s ‘x’\\iperf3.exe; calc & y" }));
    const script = offloadSteps(cfg, transportFor(cfg)).find((s) => s.name === "guest-check")!.create;
    expect(script).toContain("$iperf3 = 'C:\\it’’s ‘‘x’’\\iperf3.exe; calc & y'");
  });

  it.each(["/usr/bin/$(id)", "/usr/bin/`id`", "/usr/bin/ip'erf3", "/usr/bin/iperf3\nreboot"])(
    "refuses the iperf3 path %j",
    (p) => {
      expect(problemsOf(() => validateLab("t", withGuest(LINUX, { iperf3Path: p })))).toEqual(["offload-lab:guest.iperf3Path"]);
    },
  );

  it("runs a Linux guest check with a hostile but allowed iperf3 path without executing any of it", () => {
    const marker = `/tmp/ol-pwned-${process.pid}`;
    const hostile = `/nonexistent/iperf 3; touch ${marker} & (touch ${marker}) | >${marker}`;
    const cfg = validateLab("t", withGuest(LINUX, { iperf3Path: hostile, linuxInterface: "lo" }));
    const script = offloadSteps(cfg, transportFor(cfg)).find((s) => s.name === "guest-check")!.create;
    const r = spawnSync("dash", ["-s"], { input: script, encoding: "utf8" });
    expect(fs.existsSync(marker)).toBe(false);
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout) as { missing: string[]; iperf3Path: string };
    expect(out.iperf3Path).toBe(hostile);
    expect(out.missing).toEqual([`iperf3 at ${hostile} (guest.iperf3Path)`]);
    expect(r.stderr).toBe(`guest-check: the guest image lacks: iperf3 at ${hostile} (guest.iperf3Path)\n`);
  });

  it("refuses an ethtool extra that is not a feature", () => {
    expect(problemsOf(() => validateLab("t", { ...LINUX, guestOffloads: { ethtool: { "tx-udp-segmentation; reboot": "on" } } })))
      .toEqual(["offload-lab:guestOffloads.ethtool.tx-udp-segmentation; reboot"]);
  });

  it("finds a Linux interface by MAC when none is named, quoting the MAC", () => {
    const cfg = validateLab("t", withGuest(LINUX, { mac: "52:54:00:aa:bb:cc" }));
    const script = offloadSteps(cfg, transportFor(cfg)).find((s) => s.name === "guest-offloads")!.create;
    expect(script).toContain("OL_MAC=52\\:54\\:00\\:aa\\:bb\\:cc");
    expect(spawnSync("dash", ["-n"], { input: script }).status).toBe(0);
  });
});

describe("the scripts' JSON encoding (dash, with each awk a guest may have)", () => {
  // Backslashes first: mawk turned "a\\b" into the JSON escape \b (a backspace) before.
  const hostile = ["a\\b \\n \\\\ \\", "say \"hi\"\tthen\r", "ünï’cødé $(id) `id` '", "bell\u0007 esc\u001b nul-free"];
  const awks: [string, string][] = [["mawk", "/usr/bin/mawk"], ["busybox awk", "/usr/bin/busybox"]];

  for (const [name, binary] of awks) {
    it(`round-trips hostile text through ol_json_string and ol_json_lines with ${name}`, () => {
      const bin = fs.mkdtempSync(path.join(os.tmpdir(), "ol-awk-"));
      fs.symlinkSync(binary, path.join(bin, "awk"));
      const run = (fn: string, input: string) => {
        const r = spawnSync("dash", ["-c", `${JSON_SH_FUNCTIONS}\n${fn}`], {
          input, encoding: "utf8", env: { PATH: `${bin}:/usr/bin:/bin` },
        });
        expect(r.stderr).toBe("");
        return JSON.parse(r.stdout) as unknown;
      };
      const clean = (t: string) => t.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, "");
      for (const text of hostile) expect(run("ol_json_string", text)).toBe(clean(text));
      expect(run("ol_json_string", hostile.join("\n"))).toBe(clean(hostile.join("\n")));
      expect(run("ol_json_lines", hostile.join("\n") + "\n")).toEqual(hostile.map(clean));
      fs.rmSync(bin, { recursive: true });
    });
  }
});

describe("step graph and triggers", () => {
  const names = (raw: RawSettings, opts = {}) => {
    const cfg = validateLab("t", raw);
    return offloadSteps(cfg, transportFor(cfg), opts).map((s) => [s.name, s.runsOn, s.language, s.dependsOn.join(",")]);
  };

  it("has guest-check, guest-offloads and host-offloads after guest-domain", () => {
    expect(names(LINUX)).toEqual([
      ["guest-check", "guest", "sh", "guest-domain"],
      ["guest-offloads", "guest", "sh", "guest-domain,guest-check"],
      ["host-offloads", "host", "sh", "guest-domain"],
    ]);
  });

  it("adds netkvm-install before guest-offloads for a Windows guest when asked", () => {
    expect(names(WINDOWS, { netkvmInstall: true })).toEqual([
      ["guest-check", "guest", "ps1", "guest-domain"],
      ["netkvm-install", "guest", "ps1", "guest-domain"],
      ["guest-offloads", "guest", "ps1", "guest-domain,guest-check,netkvm-install"],
      ["host-offloads", "host", "sh", "guest-domain"],
    ]);
    expect(names(LINUX, { netkvmInstall: true }).map(([n]) => n)).not.toContain("netkvm-install");
  });

  const triggers = (raw: RawSettings) => {
    const cfg = validateLab("t", raw);
    return Object.fromEntries(offloadSteps(cfg, transportFor(cfg)).map((s) => [s.name, s.triggers]));
  };

  it("changes only guest-offloads' triggers when an offload or the MTU changes", () => {
    const base = triggers({ ...WINDOWS, guestOffloads: { uso: { ipv4: false } } });
    for (const changed of [
      { ...WINDOWS, guestOffloads: { uso: { ipv4: true } } },
      { ...WINDOWS, guestOffloads: { uso: { ipv4: false }, mtu: 9000 } },
      { ...WINDOWS, guestOffloads: { uso: { ipv4: false }, checksum: { udpv4: "tx" } } },
    ]) {
      const t = triggers(changed);
      expect(t["guest-offloads"]).not.toEqual(base["guest-offloads"]);
      expect(t["guest-check"]).toEqual(base["guest-check"]);
      expect(t["host-offloads"]).toEqual(base["host-offloads"]);
    }
  });

  it("changes only host-offloads' triggers when a host offload changes", () => {
    const base = triggers(LINUX);
    const t = triggers({ ...LINUX, hostOffloads: { tap: { "tx-udp-segmentation": "off" } } });
    expect(t["host-offloads"]).not.toEqual(base["host-offloads"]);
    expect(t["guest-offloads"]).toEqual(base["guest-offloads"]);
  });

  it("does not change a trigger when only the key order of the same values changes", () => {
    const a = triggers({ ...LINUX, guestOffloads: { uso: { ipv4: true, ipv6: true }, lso: { ipv4: false } } });
    const b = triggers({ ...LINUX, guestOffloads: { lso: { ipv4: false }, uso: { ipv6: true, ipv4: true } } });
    expect(a).toEqual(b);
  });

  it("gives SSH guest steps the key as a secret environment variable", () => {
    const cfg = validateLab("t", {
      ...withGuest(LINUX, { access: "ssh" }, { network: { mode: "dedicated", cidr: "10.77.0.0/24" } }),
      guestSshPrivateKey: new SecretValue("offload-lab:guestSshPrivateKey"),
    });
    const steps = offloadSteps(cfg, transportFor(cfg));
    expect(steps.filter((s) => s.runsOn === "guest").every((s) => s.secretEnv?.OFFLOAD_LAB_GUEST_SSH_KEY === "guestSshPrivateKey")).toBe(true);
    expect(steps.find((s) => s.runsOn === "host")!.secretEnv).toBeUndefined();
  });
});
