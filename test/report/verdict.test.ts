import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { analyze } from "../../src/report/compare";
import { hostComparisons } from "../../src/report/hosts";
import { loadInputs, type LoadedRun } from "../../src/report/load";
import { reportModel } from "../../src/report/model";
import { isInterval } from "../../src/report/ratio";
import { FRAGMENTED_TEXT, NOT_EXERCISED_TEXT, stopRows, verdictRows, type VerdictRow } from "../../src/report/verdict";
import type { CellResult } from "../../src/results/cell";
import { FIXTURES, makeCell } from "./fixtures";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "offload-lab-verdict-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function run(variant: string, cells: CellResult[], extra: Partial<LoadedRun> = {}): LoadedRun {
  return { source: `${variant}.json`, stack: null, variant, os: "linux", uso: null, armFromCells: true, host: null, cells, ...extra };
}

/** n cells of a variant with a throughput series. */
function arm(variant: string, mbps: number[], extra: Partial<CellResult> = {}): CellResult[] {
  return mbps.map((m, i) => makeCell({ variant, repetition: i + 1, throughputBps: m * 1e6, guestCpuPercent: 8 - i * 0.1, ...extra }));
}

const engaged = (v: "yes" | "no" | "unverified", more = {}) => ({ evidence: { usoRequested: true, usoEngaged: v, ...more } });
const gso = { sender: "gso" as const };
const only = (rows: VerdictRow[]): VerdictRow => {
  expect(rows).toHaveLength(1);
  return rows[0] as VerdictRow;
};

describe("the USO verdict table", () => {
  it("shows a plain sender's row without any significance, even with numbers that differ", () => {
    const r = only(verdictRows(analyze([
      run("linux-uso-off", arm("linux-uso-off", [600, 602, 601])),
      run("linux-uso-on", arm("linux-uso-on", [700, 702, 701], engaged("yes"))),
    ])));
    expect([r.sender, r.kind, r.answer, r.verdict]).toEqual(["plain", "not-exercised", null, NOT_EXERCISED_TEXT]);
    expect(r.engaged.verdict).toBe("not-exercised");
    expect(stopRows([r])[0]!.judged).toBe(false);
  });

  it("shows a fragmented payload's row without significance", () => {
    const big = { ...gso, payloadBytes: 65507, fragmented: true };
    const r = only(verdictRows(analyze([
      run("f-uso-off", arm("f-uso-off", [600, 602, 601], big)),
      run("f-uso-on", arm("f-uso-on", [700, 702, 701], { ...big, ...engaged("yes") })),
    ])));
    expect([r.kind, r.answer, r.verdict]).toEqual(["fragmented", null, FRAGMENTED_TEXT]);
  });

  it("labels a plain sender's 65507 B row fragmented: above MTU − 28 that comes first", () => {
    const big = { payloadBytes: 65507, fragmented: true };
    const r = only(verdictRows(analyze([
      run("p-uso-off", arm("p-uso-off", [600, 602, 601], big)),
      run("p-uso-on", arm("p-uso-on", [700, 702, 701], { ...big, evidence: { usoRequested: true, usoEngaged: "not-exercised" } })),
    ])));
    expect([r.sender, r.kind, r.verdict]).toEqual(["plain", "fragmented", FRAGMENTED_TEXT]);
  });

  it("reads a gso row's evidence: engaged with frame sizes, not engaged, mixed, unverified", () => {
    const pair = (on: Partial<CellResult>[]) => only(verdictRows(analyze([
      run("l-uso-off", arm("l-uso-off", [600, 610], gso)),
      run("l-uso-on", on.map((o, i) => makeCell({ variant: "l-uso-on", repetition: i + 1, ...gso, ...o }))),
    ]))).engaged;
    expect(pair([engaged("yes", { largestFrame: 64810, datagramsPerFrame: 44 }), engaged("yes", { largestFrame: 63000, datagramsPerFrame: 42 })]))
      .toEqual({ verdict: "yes", text: "yes: 2 of 2 cells; largest frame 64810 B, 43.0 datagrams per frame" });
    expect(pair([engaged("yes", { superFrames: true, meanFrameBytes: 9021.4 }), engaged("yes", { superFrames: true, meanFrameBytes: 8999 })]).text)
      .toBe("yes: 2 of 2 cells; mean frame 9010 B on the tap");
    expect(pair([engaged("no"), engaged("no")]).verdict).toBe("no");
    expect(pair([engaged("yes"), engaged("no")])).toEqual({ verdict: "mixed", text: "mixed: yes in 1, no in 1 of 2 cells" });
    // A file from before the verdict enum says "unknown": no evidence either way.
    expect(pair([{ evidence: { usoRequested: true, usoEngaged: "unknown" } }]).verdict).toBe("unverified");
  });

  it("says n is too small where an arm has one counted cell, and claims nothing", () => {
    const r = only(verdictRows(analyze([
      run("v-uso-off", arm("v-uso-off", [600, 610, 605], gso)),
      run("v-uso-on", arm("v-uso-on", [650], { ...gso, ...engaged("yes") })),
    ])));
    expect(r.answer).toEqual({ kind: "n-too-small", nOff: 3, nOn: 1, pairs: null });
    expect(r.verdict).toBe("n too small (n=3 vs 1; need 2 each)");
    expect(isInterval(r.ratio)).toBe(false);
  });

  it("pairs only the same MTU, payload, sender and bitrate", () => {
    const rows = verdictRows(analyze([
      run("v-uso-off", [...arm("v-uso-off", [600, 601]), ...arm("v-uso-off", [500, 501], { ...gso, payloadBytes: 8972, id: "x" })]),
      run("v-uso-on", arm("v-uso-on", [650, 651], { ...gso, ...engaged("yes") })),
    ]));
    expect(rows).toEqual([]);
  });
});

describe("the two measures", () => {
  // USO on: 30 % more at -b 0; at 100M the same delivered rate for 20 % less guest CPU.
  const cells = (variant: string, on: boolean): CellResult[] => [
    ...[0, 1, 2, 3].map((i) => makeCell({ variant, repetition: i + 1, ...gso, bitrate: "0", throughputBps: (on ? 1300 : 1000) * 1e6 * (1 + i / 100), ...(on ? engaged("yes") : {}) })),
    ...[0, 1, 2, 3].map((i) => makeCell({ variant, id: `c${i}`, repetition: i + 1, ...gso, bitrate: "100M", throughputBps: 99e6 + i * 1e5, guestCpuPercent: (on ? 8 : 10) * (1 + i / 100), ...(on ? engaged("yes") : {}) })),
  ];
  const rows = verdictRows(analyze([run("m-uso-off", cells("m-uso-off", false), { uso: false }), run("m-uso-on", cells("m-uso-on", true), { uso: true })]));

  it("gives throughput at -b 0 and guest CPU per delivered Gbit/s at a fixed bitrate, each as an on/off ratio", () => {
    expect(rows.map((r) => [r.measure, r.bitrate, r.verdict])).toEqual([["throughput", "0", "faster with USO"], ["cpu", "100M", "cheaper with USO"]]);
    expect(rows[0]!.ratio.ratio).toBeCloseTo(1.3, 9);
    expect(rows[1]!.ratio.ratio).toBeCloseTo(0.8, 2);
    // CPU per delivered Gbit/s: 10 % at 0.099 Gbit/s is 101 % per Gbit/s.
    expect(rows[1]!.offSamples[0]!.value).toBeCloseTo(10 / 0.099, 9);
  });
});

describe("in-lab arms and per-variant stacks", () => {
  const values = { off: [1000, 1010, 990, 1005], on: [1200, 1190, 1215, 1205] };
  it("give the same row from the same numbers; with pairs, a paired analysis", () => {
    const stacks = only(verdictRows(analyze([
      run("s-uso-off", arm("s-uso-off", values.off, { ...gso, bitrate: "0" }), { uso: false }),
      run("s-uso-on", arm("s-uso-on", values.on, { ...gso, bitrate: "0", ...engaged("yes") }), { uso: true }),
    ])));
    const inLab = (pairs: boolean) => only(verdictRows(analyze([run("lab", [
      ...arm("lab", values.off, { ...gso, bitrate: "0", arm: "off" }).map((c, i) => (pairs ? { ...c, pair: i + 1 } : c)),
      ...arm("lab", values.on, { ...gso, bitrate: "0", arm: "on", ...engaged("yes") }).map((c, i) => ({ ...c, id: `on-${i}`, ...(pairs ? { pair: i + 1 } : {}) })),
    ], { uso: null, armFromCells: false })])));
    const unpaired = inLab(false);
    expect(unpaired.ratio).toEqual(stacks.ratio);
    expect(unpaired.verdict).toBe(stacks.verdict);
    const paired = inLab(true);
    expect(paired.ratio.method).toBe("paired");
    expect(paired.ratio.pairs).toBe(4);
    expect(paired.ratio.ratio).toBeCloseTo(stacks.ratio.ratio!, 12);
  });
});

describe("loss in the verdict", () => {
  const withLoss = (variant: string, loss: number[], drops: number[] | null, more: Partial<CellResult>) =>
    loss.map((l, i) => makeCell({
      variant, repetition: i + 1, ...gso, bitrate: "100M", lossPercent: l, packets: 17000, lostPackets: Math.round(l * 170),
      ...(drops === null ? {} : { receiver: { socketDrops: drops[i]!, inErrors: drops[i]!, socketBufferBytes: 212992 } }), ...more,
    }));
  it("flags an engaged USO arm that loses significantly more as engaged, lossy, with where the datagrams went", () => {
    const r = only(verdictRows(analyze([
      run("l-uso-off", withLoss("l-uso-off", [0, 0.01, 0], [0, 1, 0], {}), { uso: false }),
      run("l-uso-on", withLoss("l-uso-on", [0.5, 0.45, 0.55], [80, 70, 90], engaged("yes", { largestFrame: 64810 })), { uso: true }),
    ])));
    expect(r.lossy).toBe(true);
    expect(r.flags[0]).toBe("engaged, lossy");
    expect(r.loss.on.attribution).toMatchObject({ lost: 256, socketDrops: 240, missingOnTheWay: 16, attributed: 3, socketBuffer: { min: 212992, max: 212992 } });
    expect(r.engaged.text).toBe(
      "engaged, lossy: yes: 3 of 3 cells; largest frame 64810 B; loss +0.50 pp [+0.37, +0.62] with USO; " +
        "on: 256 lost: 240 at the receiver's socket, 16 missing on the way; rcvbuf 212992 B",
    );
  });
  it("does not call a loss difference that is within the noise lossy", () => {
    const r = only(verdictRows(analyze([
      run("n-uso-off", withLoss("n-uso-off", [0.1, 0.3, 0.2], null, {}), { uso: false }),
      run("n-uso-on", withLoss("n-uso-on", [0.3, 0.1, 0.25], null, engaged("yes")), { uso: true }),
    ])));
    expect(r.lossy).toBe(false);
    expect(r.loss.on.attribution.attributed).toBe(0);
  });
});

describe("several hosts", () => {
  const onHost = (variant: string, host: string, mbps: number[], uso: boolean) =>
    run(`${variant}@${host}`, arm(variant, mbps, { ...gso, bitrate: "0", ...(uso ? engaged("yes") : {}) }), { uso, host, variant, source: `${variant}-${host}.json` });
  it("compares USO arms within a host, and says when the arms came from different hosts", () => {
    const rows = verdictRows(analyze([
      onHost("v-uso-off", "h1", [1000, 1010, 1005], false),
      onHost("v-uso-on", "h2", [1300, 1310, 1305], true),
    ]));
    expect(only(rows)).toMatchObject({ kind: "cross-host", answer: null, verdict: "arms from different hosts (off: h1; on: h2): not a USO verdict" });
  });
  it("flags a host whose results differ from the others', in the host table and in its verdict rows", () => {
    const runs = [
      onHost("v-uso-off", "h1", [1000, 1010, 1005], false), onHost("v-uso-on", "h1", [1300, 1310, 1305], true),
      onHost("v-uso-off", "h2", [1002, 1008, 1004], false), onHost("v-uso-on", "h2", [1302, 1306, 1309], true),
      // A faulty host: its off arm is far slower, which would pass for a large USO effect.
      onHost("v-uso-off", "h3", [600, 610, 605], false), onHost("v-uso-on", "h3", [1301, 1304, 1307], true),
    ];
    const model = reportModel(analyze(runs));
    const h3 = model.hosts.filter((h) => h.host === "h3");
    expect(h3.map((h) => [h.uso, h.differs])).toEqual([[false, true], [true, false]]);
    expect(h3[0]!.confidence).toBeCloseTo(1 - 0.05 / 3, 12);
    expect(model.hosts.filter((h) => h.host !== "h3").every((h) => !h.differs || h.uso === false)).toBe(true);
    expect(model.verdicts.map((r) => [r.host, r.flags.filter((f) => f.startsWith("host"))])).toEqual([
      ["h1", []], ["h2", []], ["h3", ["host h3 differs from the other hosts (off arm)"]],
    ]);
    expect(hostComparisons(analyze(runs.slice(0, 2)).rows)).toEqual([]);
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
    const { runs } = loadInputs([path.join(FIXTURES, "stacks", "mtu1500-uso-off.json"), sweep, path.join(FIXTURES, "imported")], tmp);
    expect(runs.map((r) => r.variant)).toEqual(["mtu1500-uso-off", "mtu9000-uso-off", "mtu9000-uso-on", "linux-mtu1500-uso-off"]);
    expect(verdictRows(analyze(runs)).map((r) => `${r.mtu}/${r.payloadBytes}/${r.sender}/${r.measure}`)).toEqual(["9000/8972/uso/cpu", "9000/65507/uso/cpu"]);
  });
});
