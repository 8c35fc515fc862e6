import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { analyze } from "../../src/report/compare";
import { loadInputs, type LoadedRun } from "../../src/report/load";
import { NOT_EXERCISED_TEXT, significance, verdictRows } from "../../src/report/verdict";
import type { CellResult } from "../../src/results/cell";
import { FIXTURES, makeCell } from "./fixtures";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "offload-lab-verdict-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function run(variant: string, cells: CellResult[]): LoadedRun {
  return { source: `${variant}.json`, stack: null, variant, os: "linux", uso: null, cells };
}

/** n cells of a variant with a throughput series and a sender and verdict. */
function arm(variant: string, mbps: number[], extra: Partial<CellResult> = {}): CellResult[] {
  return mbps.map((m, i) => makeCell({ variant, repetition: i + 1, throughputBps: m * 1e6, guestCpuPercent: 8 - i * 0.1, ...extra }));
}

const engaged = (v: "yes" | "no" | "unverified", more = {}) => ({ evidence: { usoRequested: true, usoEngaged: v, ...more } });

describe("the USO verdict table", () => {
  it("says plainly that a plain sender's pair measures nothing about USO, even with numbers that differ", () => {
    const rows = verdictRows(analyze([
      run("linux-uso-off", arm("linux-uso-off", [600, 602, 601])),
      run("linux-uso-on", arm("linux-uso-on", [700, 702, 701], engaged("yes"))),
    ]));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.sender).toBe("plain");
    expect(rows[0]!.engaged).toEqual({ verdict: "not-exercised", text: NOT_EXERCISED_TEXT });
    expect(significance(rows[0]!.throughput)).toBe("yes, higher with USO");
  });

  it("reads a gso pair's evidence: engaged with frame sizes, not engaged, mixed, unverified", () => {
    const gso = { sender: "gso" as const };
    const pair = (on: Partial<CellResult>[]) => verdictRows(analyze([
      run("l-uso-off", arm("l-uso-off", [600, 610], gso)),
      run("l-uso-on", on.map((o, i) => makeCell({ variant: "l-uso-on", repetition: i + 1, ...gso, ...o }))),
    ]))[0]!.engaged;
    expect(pair([engaged("yes", { largestFrame: 64810, datagramsPerFrame: 44 }), engaged("yes", { largestFrame: 63000, datagramsPerFrame: 42 })]))
      .toEqual({ verdict: "yes", text: "yes: 2 of 2 cells; largest frame 64810 B, 43.0 datagrams per frame" });
    expect(pair([engaged("no"), engaged("no")]).verdict).toBe("no");
    expect(pair([engaged("yes"), engaged("no")])).toEqual({ verdict: "mixed", text: "mixed: yes in 1, no in 1 of 2 cells" });
    // A file from before the verdict enum says "unknown": no evidence either way.
    expect(pair([{ evidence: { usoRequested: true, usoEngaged: "unknown" } }]).verdict).toBe("unverified");
  });

  it("says n is too small where an arm has one counted cell", () => {
    const rows = verdictRows(analyze([
      run("v-uso-off", arm("v-uso-off", [600, 610, 605], { sender: "gso" })),
      run("v-uso-on", arm("v-uso-on", [650], { sender: "gso", ...engaged("yes") })),
    ]));
    expect(significance(rows[0]!.throughput)).toBe("n too small (n=3 vs 1; need 2 each)");
    expect(rows[0]!.throughput.interval).toBeNull();
  });

  it("pairs only the same MTU, payload, sender and bitrate", () => {
    const rows = verdictRows(analyze([
      run("v-uso-off", [...arm("v-uso-off", [600, 601]), ...arm("v-uso-off", [500, 501], { sender: "gso", payloadBytes: 8972, id: "x" })]),
      run("v-uso-on", arm("v-uso-on", [650, 651], { sender: "gso", ...engaged("yes") })),
    ]));
    expect(rows).toEqual([]);
  });
});

describe("report inputs in any mix", () => {
  it("reads stack output files, a sweep output folder and import results together", () => {
    // A sweep folder as `sweep` leaves it: outputs/, its state file and its own report.
    const sweep = path.join(tmp, "sweep");
    fs.mkdirSync(path.join(sweep, "outputs"), { recursive: true });
    fs.copyFileSync(path.join(FIXTURES, "stacks", "mtu9000-uso-off.json"), path.join(sweep, "outputs", "s1-mtu9000-uso-off.json"));
    fs.copyFileSync(path.join(FIXTURES, "stacks", "mtu9000-uso-on.json"), path.join(sweep, "outputs", "s1-mtu9000-uso-on.json"));
    fs.writeFileSync(path.join(sweep, ".sweep-state.json"), "{}");
    fs.writeFileSync(path.join(sweep, "report.md"), "# old report");
    const runs = loadInputs([path.join(FIXTURES, "stacks", "mtu1500-uso-off.json"), sweep, path.join(FIXTURES, "imported")], tmp);
    expect(runs.map((r) => r.variant)).toEqual(["mtu1500-uso-off", "mtu9000-uso-off", "mtu9000-uso-on", "linux-mtu1500-uso-off"]);
    expect(verdictRows(analyze(runs)).map((r) => `${r.mtu}/${r.payloadBytes}/${r.sender}`)).toEqual(["9000/8972/uso", "9000/65507/uso"]);
  });
});
