import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import type { CellResult } from "../../src/results/cell";
import { measureValue, type Measure } from "../../src/report/measures";
import { DEFAULT_POLICY, nextRound, type StopPolicy, type StopRow } from "../../src/report/stopping";
import type { Sample } from "../../src/report/ratio";
import { analyze } from "../../src/report/compare";
import { loadInputs } from "../../src/report/load";
import { reportModel } from "../../src/report/model";
import { samplingPlan } from "../../src/report/sampling";

// Cells of a real run: sandbox-uso-off then sandbox-uso-on on the sandbox host, two repetitions
// of each sender at 100 Mbit/s (derived from test/fixtures/stdout by test/fixtures/report-recorded/derive.ts).
const RECORDED = path.join(__dirname, "..", "fixtures", "report-recorded");
const cells = (stack: string): CellResult[] => (JSON.parse(fs.readFileSync(path.join(RECORDED, `${stack}.json`), "utf8")) as { cells: CellResult[] }).cells;

/** The recorded values of one sender's cells in one arm, in repetition order: throughput in Mbit/s or CPU per Gbit/s. */
function recorded(arm: "off" | "on", sender: "plain" | "gso", measure: Measure): Sample[] {
  return cells(`sandbox-uso-${arm}`)
    .filter((c) => c.sender === sender && c.status === "ok")
    .sort((a, b) => a.repetition - b.repetition)
    .map((c) => ({ value: measureValue(measure, c)! }));
}

const row = (key: string, off: Sample[], on: Sample[], judged = true): StopRow => ({ key, judged, off, on });
const plenty = { usedSeconds: 0, budgetSeconds: 3600, secondsPerSample: 10 };
// Two per arm is all the recording has: the rule is run with that minimum, the cap just above.
const policy: StopPolicy = { ...DEFAULT_POLICY, minPerArm: 2, maxPerArm: 6 };

describe("the sequential stopping rule on recorded samples", () => {
  it("asks for samples while an arm has one value, and never claims significance from it", () => {
    const off = recorded("off", "gso", "cpu").slice(0, 1);
    const on = recorded("on", "gso", "cpu").slice(0, 1);
    // One value each, more than 20 % apart: that is no evidence of anything.
    expect(Math.abs(Math.log(on[0]!.value / off[0]!.value))).toBeGreaterThan(Math.log(1.2));
    const [d] = nextRound([row("gso cpu", off, on)], policy, plenty).rows;
    expect(d).toMatchObject({ state: "more", off: 1, on: 1, answer: { kind: "n-too-small", nOff: 1, nOn: 1 } });
  });

  it("stops a row as soon as its interval is within the target: gso throughput at 100 Mbit/s, n = 2 per arm", () => {
    const off = recorded("off", "gso", "throughput");
    const on = recorded("on", "gso", "throughput");
    expect(nextRound([row("gso throughput", off.slice(0, 1), on.slice(0, 1))], policy, plenty).rows[0]!.state).toBe("more");
    const plan = nextRound([row("gso throughput", off, on)], policy, plenty);
    expect(plan.rows[0]).toMatchObject({ state: "done", answer: { kind: "no-difference" } });
    expect(plan.finished).toBe(true);
    expect(plan.secondsNeeded).toBe(0);
  });

  it("keeps asking while the interval is wider than the target, and says inconclusive with the width at the budget", () => {
    const off = recorded("off", "gso", "cpu");
    const on = recorded("on", "gso", "cpu");
    const more = nextRound([row("gso cpu", off, on)], policy, plenty).rows[0]!;
    expect(more.state).toBe("more");
    expect(more.state === "more" && more.off + more.on).toBeGreaterThan(0);
    const spent = { usedSeconds: 3595, budgetSeconds: 3600, secondsPerSample: 10 };
    const out = nextRound([row("gso cpu", off, on)], policy, spent);
    expect(out.rows[0]).toMatchObject({ state: "out-of-budget", answer: { kind: "inconclusive" } });
    const reached = out.rows[0]!.state === "out-of-budget" && out.rows[0]!.answer.kind === "inconclusive" ? out.rows[0]!.answer.reached : NaN;
    expect(reached).toBeGreaterThan(policy.target.relative);
    expect(out.finished).toBe(true);
  });

  it("gives the time left to the rows that need the fewest samples first, and stops each row on its own", () => {
    const rows = [
      row("gso cpu", recorded("off", "gso", "cpu"), recorded("on", "gso", "cpu")),
      row("plain cpu", recorded("off", "plain", "cpu").slice(0, 1), recorded("on", "plain", "cpu").slice(0, 1)),
      row("gso throughput", recorded("off", "gso", "throughput"), recorded("on", "gso", "throughput")),
      row("plain throughput", recorded("off", "plain", "throughput"), recorded("on", "plain", "throughput"), false),
    ];
    // Room for two samples: the plain row needs one per arm, the wide gso cpu row more than that.
    const plan = nextRound(rows, policy, { usedSeconds: 0, budgetSeconds: 20, secondsPerSample: 10 });
    expect(plan.rows.map((d) => [d.key, d.state])).toEqual([
      ["gso cpu", "out-of-budget"],
      ["plain cpu", "more"],
      ["gso throughput", "done"],
      ["plain throughput", "not-judged"],
    ]);
    expect(plan.secondsNeeded).toBe(20);
    expect(plan.finished).toBe(false);
  });

  it("stops at the samples cap with the answer as it stands", () => {
    const off = recorded("off", "gso", "cpu");
    const on = recorded("on", "gso", "cpu");
    const [d] = nextRound([row("gso cpu", off, on)], { ...policy, maxPerArm: 2 }, plenty).rows;
    expect(d).toMatchObject({ state: "capped", answer: { kind: "inconclusive" } });
  });

  it("does not stop before the minimum per arm even when the interval is narrow", () => {
    const [d] = nextRound([row("gso throughput", recorded("off", "gso", "throughput"), recorded("on", "gso", "throughput"))], { ...policy, minPerArm: 3 }, plenty).rows;
    expect(d).toMatchObject({ state: "more", off: 1, on: 1 });
  });
});

describe("the stopping rule in the sweep's terms", () => {
  it("names each recorded row with the stacks of its arms and what it still needs", () => {
    const { runs } = loadInputs(["sandbox-uso-off", "sandbox-uso-on"].map((s) => path.join(RECORDED, `${s}.json`)));
    const plan = samplingPlan(reportModel(analyze(runs)), policy, plenty);
    expect(plan.requests.map((r) => [r.label, r.decision.state, r.offStacks, r.onStacks])).toEqual([
      ["linux MTU 1500 · 1472 B · plain · CPU per Gbit/s (% per Gbit/s), -b 100M · host unknown", "not-judged", ["sandbox-uso-off"], ["sandbox-uso-on"]],
      ["linux MTU 1500 · 1472 B · gso · CPU per Gbit/s (% per Gbit/s), -b 100M · host unknown", "more", ["sandbox-uso-off"], ["sandbox-uso-on"]],
    ]);
    expect(plan.finished).toBe(false);
  });
});
