import { describe, expect, it } from "vitest";
import { analyze, type Group } from "../../src/report/compare";
import { fmtInterval } from "../../src/report/format";
import { loadInputs, type LoadedRun } from "../../src/report/load";
import { FIXTURES, fixtureCells, makeCell } from "./fixtures";
import type { CellResult } from "../../src/results/cell";

const analysis = analyze(loadInputs([FIXTURES]).runs);

function group(variant: string, payload: number): Group {
  const g = analysis.groups.find((x) => x.variant === variant && x.payloadBytes === payload);
  if (!g) throw new Error(`no group ${variant} @ ${payload}`);
  return g;
}

function run(variant: string, cells: CellResult[], extra: Partial<LoadedRun> = {}): LoadedRun {
  return { source: `${variant}.json`, stack: null, variant, os: "windows", uso: null, armFromCells: true, host: null, cells, ...extra };
}

describe("flags", () => {
  it("excludes failed, stalled/invalid and not-engaged cells and counts fragmented and unverified ones", () => {
    const excluded = analysis.rows.filter((r) => !r.counted).map((r) => [r.cell.id, r.flags.join(" ")]);
    expect(excluded).toEqual([
      ["udp-1472B-mtu1500-uso-on-r3", "uso-not-engaged"],
      ["udp-65507B-mtu1500-uso-on-r2", "invalid stalled fragmented"],
      ["udp-65507B-mtu9000-uso-off-r1", "failed fragmented"],
    ]);
    expect(group("mtu9000-uso-on", 65507).flags).toEqual(["fragmented", "uso-unverified"]);
    expect(group("mtu9000-uso-on", 8972).flags).toEqual([]);
  });
  it("keeps an excluded cell out of the mean", () => {
    const kept = fixtureCells("stacks/mtu1500-uso-on.json").filter((c) => c.payloadBytes === 1472 && c.repetition !== 3);
    const g = group("mtu1500-uso-on", 1472);
    expect(g.stats.throughput.n).toBe(2);
    expect(g.stats.throughput.mean).toBeCloseTo((kept[0]!.throughputBps! + kept[1]!.throughputBps!) / 2 / 1e6, 9);
  });
  it("does not flag USO evidence when USO was not requested", () => {
    const a = analyze([run("mtu1500-uso-off", [makeCell({ variant: "mtu1500-uso-off", evidence: { usoRequested: false, usoEngaged: "unknown" } })])]);
    expect(a.rows[0]!.flags).toEqual([]);
  });
  it("takes the arm from the cell, else the variant's USO, else (files from before factors) the cell's evidence; never from the name", () => {
    const cell = (v: string, over: Partial<CellResult> = {}): CellResult => makeCell({ variant: v, evidence: { usoRequested: true, usoEngaged: "yes" }, ...over });
    const a = analyze([
      run("x-uso-on", [cell("x-uso-on")], { uso: false, armFromCells: false }),
      run("in-lab", [cell("in-lab", { arm: "off" }), cell("in-lab", { arm: "on", repetition: 2 })], { uso: null, armFromCells: false }),
      run("legacy-uso-off", [cell("legacy-uso-off")]),
      run("untold", [cell("untold")], { uso: null, armFromCells: false }),
    ]);
    expect(a.rows.map((r) => [r.run.variant, r.uso])).toEqual([["x-uso-on", false], ["in-lab", false], ["in-lab", true], ["legacy-uso-off", true], ["untold", null]]);
    // One variant with in-lab arms is two groups, and its arms are compared like two stacks'.
    expect(a.groups.filter((g) => g.variant === "in-lab").map((g) => g.uso)).toEqual([false, true]);
    expect(a.comparisons.some((c) => c.factor === "uso" && c.baseline.variant === "in-lab" && c.candidate.variant === "in-lab")).toBe(true);
  });
  it("flags numbers no run can produce in any input, and keeps them out of the means", () => {
    const a = analyze([run("v", [makeCell({ variant: "v", throughputBps: -5 }), makeCell({ variant: "v", repetition: 2, packets: 1e23 })])]);
    expect(a.rows.map((r) => [r.flags, r.counted])).toEqual([[["implausible"], false], [["implausible"], false]]);
    expect(a.rows[0]!.implausible).toEqual(["receiver rate -5 bit/s is not a rate"]);
  });
});

describe("one-factor comparisons", () => {
  it("pairs exactly the variants that differ in one factor at the same payload", () => {
    const pairs = analysis.comparisons
      .filter((c) => c.metric === "throughput")
      .map((c) => `${c.factor} ${c.baseline.payloadBytes}: ${c.baseline.variant} → ${c.candidate.variant}`);
    expect(pairs).toEqual([
      "uso 1472: mtu1500-uso-off → mtu1500-uso-on",
      "uso 8972: mtu9000-uso-off → mtu9000-uso-on",
      "uso 65507: mtu1500-uso-off → mtu1500-uso-on",
      "uso 65507: mtu9000-uso-off → mtu9000-uso-on",
      "mtu 65507: mtu1500-uso-off → mtu9000-uso-off",
      "mtu 65507: mtu1500-uso-on → mtu9000-uso-on",
    ]);
  });
  it("never pairs different senders or hosts: the Linux set ran plain iperf3, the Windows stacks the uso sender", () => {
    expect(analysis.groups.filter((g) => g.os === "linux").map((g) => g.sender)).toEqual(["plain", "plain"]);
    expect(analysis.comparisons.some((c) => c.baseline.os === "linux" || c.candidate.os === "linux")).toBe(false);
    const cells = (v: string) => [1, 2].map((repetition) => makeCell({ variant: v, repetition, sender: "gso" }));
    const hosts = analyze([run("a-uso-off", cells("a-uso-off"), { uso: false, host: "h1" }), run("a-uso-on", cells("a-uso-on"), { uso: true, host: "h2" })]);
    expect(hosts.comparisons).toEqual([]);
  });
  it("says when n is too small to tell", () => {
    const a = analyze([
      run("linux-v", [makeCell({ variant: "linux-v" })], { os: "linux" }),
      run("windows-v", [1, 2, 3].map((repetition) => makeCell({ variant: "windows-v", repetition })), { os: "windows" }),
    ]);
    const c = a.comparisons.find((x) => x.metric === "throughput" && x.factor === "os")!;
    expect(c.interval).toBeNull();
    expect(c.verdict).toBe("n too small to tell (n=1 vs 3; need at least 2 each)");
    expect(c.diff).not.toBeNull();
  });
  it("judges a difference on the interval as printed: [-1.8, -0.0] is no difference, and no -0.0 is printed", () => {
    const c = analysis.comparisons.find((x) => x.metric === "cpu" && x.factor === "uso" && x.baseline.payloadBytes === 1472)!;
    expect(c.interval!.high).toBeLessThan(0);
    expect(c.interval!.high).toBeGreaterThan(-0.05);
    expect(fmtInterval(c)).toBe("[-1.8, 0.0]");
    expect(c.verdict).toBe("no difference shown");
  });
  it("does not judge a USO pair with a plain sender or a fragmented payload", () => {
    const verdicts = analysis.comparisons.filter((x) => x.factor === "uso" && x.metric === "throughput" && x.baseline.payloadBytes === 65507).map((x) => x.verdict);
    expect(verdicts).toEqual(["fragmented: USO cannot apply", "fragmented: USO cannot apply"]);
    const plain = analyze([
      run("p-off", [1, 2].map((repetition) => makeCell({ variant: "p-off", repetition, throughputBps: 600e6 + repetition })), { uso: false }),
      run("p-on", [1, 2].map((repetition) => makeCell({ variant: "p-on", repetition, throughputBps: 900e6 + repetition })), { uso: true }),
    ]);
    expect(plain.comparisons.find((x) => x.metric === "throughput")!.verdict).toBe("not exercised: a plain sender shows nothing about USO");
  });
  it("gives a verdict from the interval's sign", () => {
    const c = analysis.comparisons.find((x) => x.metric === "throughput" && x.factor === "uso" && x.baseline.payloadBytes === 8972)!;
    expect(c.interval!.low).toBeGreaterThan(0);
    expect(c.verdict).toBe("candidate higher");
    const none = analysis.comparisons.find((x) => x.metric === "throughput" && x.factor === "mtu" && x.baseline.variant === "mtu1500-uso-off")!;
    expect(none.interval!.low).toBeLessThan(0);
    expect(none.interval!.high).toBeGreaterThan(0);
    expect(none.verdict).toBe("no difference shown");
  });
  it("never compares different bitrates, nor variants differing in two factors", () => {
    const a = analyze([
      run("mtu1500-uso-off", [makeCell({ variant: "mtu1500-uso-off" })]),
      run("mtu1500-uso-on", [makeCell({ variant: "mtu1500-uso-on", bitrate: "100M", evidence: { usoRequested: true, usoEngaged: "yes" } })]),
      run("mtu9000-uso-on", [makeCell({ variant: "mtu9000-uso-on", mtu: 9000, evidence: { usoRequested: true, usoEngaged: "yes" } })]),
    ]);
    expect(a.comparisons).toEqual([]);
  });
  it("reports a side with no counted cells instead of a number", () => {
    const a = analyze([
      run("v-uso-off", [makeCell({ variant: "v-uso-off" }), makeCell({ variant: "v-uso-off", repetition: 2 })]),
      run("v-uso-on", [makeCell({ variant: "v-uso-on", status: "failed", throughputBps: null, evidence: { usoRequested: true, usoEngaged: "unknown" } })]),
    ]);
    const c = a.comparisons.find((x) => x.metric === "throughput")!;
    expect(c.diff).toBeNull();
    expect(c.verdict).toBe("no counted cells on one side (n=2 vs 0)");
  });
  it("computes efficiency as receiver Mbit/s per guest CPU percent", () => {
    const a = analyze([run("e", [makeCell({ variant: "e", throughputBps: 800e6, guestCpuPercent: 4 }), makeCell({ variant: "e", repetition: 2, guestCpuPercent: 0 })])]);
    expect(a.rows.map((r) => r.values.efficiency)).toEqual([200, null]);
  });
});

describe("unknown OS", () => {
  it("is not compared with a known OS, on any factor", () => {
    const a = analyze([
      run("mtu1500-uso-off", [makeCell({ variant: "mtu1500-uso-off" }), makeCell({ variant: "mtu1500-uso-off", repetition: 2 })], { os: "unknown" }),
      run("mtu1500-uso-off", [makeCell({ variant: "mtu1500-uso-off" }), makeCell({ variant: "mtu1500-uso-off", repetition: 2 })], { os: "windows", source: "w.json" }),
      run("mtu1500-uso-on", [makeCell({ variant: "mtu1500-uso-on", evidence: { usoRequested: true, usoEngaged: "yes" } })], { os: "windows" }),
    ]);
    expect(a.comparisons.filter((c) => c.metric === "throughput").map((c) => `${c.factor} ${c.baseline.os} ${c.candidate.os}`)).toEqual(["uso windows windows"]);
  });
});
