import { execFileSync, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { machineUsoVerdict } from "../../config/machineType";
import { validateLab } from "../../config/validate";
import { shellcheck } from "../../../test/support/shellcheck";
import { scriptFile } from "../script/files";

// The machine type the guest-domain step picks on the host (machine-lib.sh), run for real in
// bash on two machine lists: this machine's QEMU and RHEL 10's.

const LIB = scriptFile(__dirname, "machine-lib.sh");

/** Runs `fn` of machine-lib.sh in bash with `input` on stdin. */
function lib(fn: string, input = ""): string {
  return execFileSync("bash", ["-c", `set -euo pipefail\n${LIB.text}\n${fn}`], { input, encoding: "utf8" }).trim();
}

const qemu = spawnSync("sh", ["-c", "command -v qemu-system-x86_64"]).status === 0;

/**
 * RHEL 10's qemu-kvm machine list in `-machine help`'s layout. Not recorded from a RHEL host
 * (none can run here): the names are those Red Hat documents for RHEL 10 virtualization —
 * pc-q35-rhel10.0.0, the type `q35` stands for on RHEL 10 ("Configuring and managing
 * virtualization", RHEL 10, sample domain XML), and the RHEL 9 types a RHEL 10 host keeps for
 * migration, pc-q35-rhel9.6.0 among them, on which RHEL-80313 turned USO off. RHEL 10 ships
 * no i440fx types.
 */
const RHEL10_MACHINE_HELP = `Supported machines are:
q35                  RHEL-10.0.0 PC (Q35 + ICH9, 2009) (alias of pc-q35-rhel10.0.0)
pc-q35-rhel10.0.0    RHEL-10.0.0 PC (Q35 + ICH9, 2009) (default)
pc-q35-rhel9.6.0     RHEL-9.6.0 PC (Q35 + ICH9, 2009)
pc-q35-rhel9.4.0     RHEL-9.4.0 PC (Q35 + ICH9, 2009)
pc-q35-rhel9.2.0     RHEL-9.2.0 PC (Q35 + ICH9, 2009)
pc-q35-rhel9.0.0     RHEL-9.0.0 PC (Q35 + ICH9, 2009)
none                 empty machine
`;

describe("the machine type chosen on the host (machine-lib.sh)", () => {
  it("is shellcheck-clean bash", () => {
    expect(shellcheck(`#!/usr/bin/env bash\n${LIB.text}`, "bash")).toEqual([]);
  });

  it.skipIf(!qemu)("on this machine's QEMU (10.0.2 from bookworm-backports): the newest pc-q35-X.Y, which keeps USO", () => {
    const help = execFileSync("qemu-system-x86_64", ["-machine", "help"], { encoding: "utf8" });
    const names = lib("ol_machines_from_help", help).split("\n");
    expect(names).toContain("q35");
    expect(names).toContain("pc-q35-8.1");
    // Independently of the bash: the highest X.Y among this QEMU's pc-q35-X.Y types.
    const newest = names
      .map((n) => /^pc-q35-(\d+)\.(\d+)$/.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .sort((a, b) => Number(b[1]) - Number(a[1]) || Number(b[2]) - Number(a[2]))[0]![0];
    const chosen = lib("ol_machines_from_help | ol_newest_uso_q35", help);
    expect(chosen).toBe(newest);
    expect(chosen).toBe("pc-q35-10.0");
    // Every name of the list is judged the same in bash as in validation.
    for (const n of names) {
      const verdict = machineUsoVerdict(n).keepsUso;
      expect(lib(`ol_machine_uso ${n}`), n).toBe(verdict === null ? "unknown" : verdict ? "keeps" : "off");
    }
  });

  it("on RHEL 10's list: pc-q35-rhel10.0.0; with only RHEL 9 types: nothing keeps USO", () => {
    expect(lib("ol_machines_from_help | ol_newest_uso_q35", RHEL10_MACHINE_HELP)).toBe("pc-q35-rhel10.0.0");
    const rhel9Only = RHEL10_MACHINE_HELP.split("\n").filter((l) => !l.includes("10.0.0")).join("\n");
    expect(lib("ol_machines_from_help | ol_newest_uso_q35", rhel9Only)).toBe("");
    for (const n of lib("ol_machines_from_help", RHEL10_MACHINE_HELP).split("\n")) {
      const verdict = machineUsoVerdict(n).keepsUso;
      expect(lib(`ol_machine_uso ${n}`), n).toBe(verdict === null ? "unknown" : verdict ? "keeps" : "off");
    }
  });

  it.each([
    ["pc-q35-8.1", "off"], ["pc-q35-8.2", "keeps"], ["pc-q35-10.0", "keeps"], ["pc-i440fx-7.2", "off"],
    ["pc-q35-rhel9.6.0", "off"], ["pc-q35-rhel10.0.0", "keeps"], ["pc-q35-rhel10.2.0", "keeps"], ["q35", "unknown"], ["microvm", "unknown"],
  ])("judges %s: %s", (name, verdict) => {
    expect(lib(`ol_machine_uso ${name}`)).toBe(verdict);
  });
});

describe("a named machine type that turns USO off (validation, by name)", () => {
  const windows = { guest: { os: "windows", name: "w", baseImage: "/w.qcow2", virtioWinIso: "/v.iso", virtioNetFeatures: { host_uso: "on" } } };
  const problemsFor = (machineType: string, extra: Record<string, unknown> = {}) => {
    try {
      validateLab("t", { ...windows, ...extra, guest: { ...windows.guest, machineType, ...(extra.guest as object) } });
      return [];
    } catch (e) {
      return (e as { problems: { key: string; allowed: string }[] }).problems.map((p) => `${p.key}: ${p.allowed}`);
    }
  };

  it("is refused with the reason while USO is asked for: upstream 8.1 and older, RHEL 9.6 and older", () => {
    expect(problemsFor("pc-q35-8.1")).toEqual([
      "offload-lab:guest.machineType: turns USO off: upstream QEMU machine types 8.1 and older set host_uso, guest_uso4 and guest_uso6 off (hw_compat_8_1); use pc-q35-8.2 or newer; the stack asks for USO, so leave guest.machineType unset (the host's newest q35 type that keeps it is chosen) or name one that keeps it",
    ]);
    expect(problemsFor("pc-q35-rhel9.6.0")[0]).toContain("RHEL-80313 turned USO off on pc-q35-rhel9.6.0 and older RHEL machine types");
  });

  it("passes when it keeps USO, when it is an alias (judged on the host), or when nothing asks for USO", () => {
    expect(problemsFor("pc-q35-8.2")).toEqual([]);
    expect(problemsFor("pc-q35-rhel10.0.0")).toEqual([]);
    expect(problemsFor("q35")).toEqual([]);
    expect(problemsFor("pc-q35-8.1", { guest: { virtioNetFeatures: {} } })).toEqual([]);
    // Unset: the guest-domain step chooses on the host.
    expect(validateLab("t", windows).guest.machineType).toBeUndefined();
  });
});
