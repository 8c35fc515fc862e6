import { analyze } from "../report/compare";
import { loadInputs } from "../report/load";
import { reportModel } from "../report/model";
import { fmtPrecision } from "../report/precision";
import { samplingPlan, type SamplingRequest } from "../report/sampling";
import type { Budget, RowDecision, StopPolicy } from "../report/stopping";
import type { RoundRow } from "./state";

/** What the next round of one lab runs, and how its rows stand. */
export interface PlannedRound {
  /** The rows that get more pairs, as `benchmark.round` takes them; empty: sampling is over. */
  readonly rows: RoundRow[];
  /** One line per judged verdict row: its precision so far and what it asks. */
  readonly lines: string[];
  /** Judged rows in each state. */
  readonly counts: Readonly<Record<"more" | "done" | "capped" | "out-of-budget", number>>;
}

function precisionSoFar(d: Exclude<RowDecision, { state: "not-judged" }>): string {
  const a = d.answer;
  return a.kind === "n-too-small" ? "no interval yet" : `${fmtPrecision(a.reached)} (${a.kind === "no-difference" ? "no difference" : a.kind})`;
}

function asks(d: Exclude<RowDecision, { state: "not-judged" }>, pairs: number): string {
  switch (d.state) {
    case "more":
      return `+${pairs} ${pairs === 1 ? "pair" : "pairs"}`;
    case "done":
      return "done: target met";
    case "capped":
      return "capped: --max-samples reached";
    case "out-of-budget":
      return "out of budget";
  }
}

/**
 * The next round of one lab from every output its rounds saved so far: the report's verdict
 * rows (the same model `report` builds), the stopping rule over them (src/report/sampling.ts),
 * and the rows that still need samples mapped back to the matrix's payload, sender and
 * bitrate. In-lab arms give a sample of each arm per pair, so a row asks for as many pairs as
 * its hungrier arm needs.
 */
export function planRound(outputFiles: readonly string[], policy: StopPolicy, budget: Budget): PlannedRound {
  const { runs, notes } = loadInputs(outputFiles);
  const model = reportModel(analyze(runs, notes), [], policy.target);
  const plan = samplingPlan(model, policy, budget);
  const byKey = new Map(model.verdicts.map((v) => [v.key, v]));
  const rows = new Map<string, RoundRow>();
  const lines: string[] = [];
  const counts = { more: 0, done: 0, capped: 0, "out-of-budget": 0 };
  const target = fmtPrecision(policy.target.relative);
  for (const req of plan.requests as SamplingRequest[]) {
    const d = req.decision;
    if (d.state === "not-judged") continue;
    counts[d.state] += 1;
    const pairs = d.state === "more" ? Math.max(d.off, d.on) : 0;
    lines.push(`${req.label}: ${precisionSoFar(d)}, target ${target}: ${asks(d, pairs)}`);
    if (d.state !== "more" || pairs === 0) continue;
    const v = byKey.get(d.key)!;
    const id = JSON.stringify([v.payloadBytes, v.sender, v.bitrate]);
    const had = rows.get(id);
    rows.set(id, { payload: v.payloadBytes, sender: v.sender, bitrate: v.bitrate, repetitions: Math.max(pairs, had?.repetitions ?? 0) });
  }
  return { rows: [...rows.values()], lines, counts };
}
