import { DEFAULT_TARGET, judge, targetMet, type Answer, type PrecisionTarget } from "./precision";
import { isInterval, pairedLogRatios, ratioInterval, type Sample } from "./ratio";
import { sampleSd, studentTQuantile } from "./stats";

/**
 * The sequential stopping rule the sweep calls between rounds: which verdict rows still need
 * samples, how many, and which are done or out of budget.
 *
 * netperf stops a whole test when its confidence interval is narrow enough (`-I 99,5`) or after
 * its maximum of iterations (`-i 30,3`); pbench re-runs a whole benchmark while its standard
 * deviation is too high. Here each verdict row stops on its own: a row whose on/off ratio is
 * already known to the target asks for nothing more, and the time left goes to the rows that
 * need it, the cheapest first so that as many rows as possible get an answer.
 *
 * A row stops when its interval is narrow enough, never because it became significant:
 * stopping at the first look whose interval excludes 1 would, over many looks, call a null
 * effect significant far more often than 5 % of the time (optional stopping). Since the target
 * is relative (×/÷ 1 + target on the ratio), a large effect reaches it as soon as a small one.
 */
export interface StopRow {
  readonly key: string;
  /** False for rows that show nothing about USO (not exercised, fragmented, arms from different hosts): they need no samples. */
  readonly judged: boolean;
  readonly off: readonly Sample[];
  readonly on: readonly Sample[];
}

export interface StopPolicy {
  readonly target: PrecisionTarget;
  /** Samples per arm before a row may stop, as netperf's minimum iterations (`-i 30,3`: 3). */
  readonly minPerArm: number;
  /** Samples per arm at most, as netperf's maximum (`-i 30,3`: 30). */
  readonly maxPerArm: number;
  readonly confidence: number;
}

export const DEFAULT_POLICY: StopPolicy = { target: DEFAULT_TARGET, minPerArm: 3, maxPerArm: 30, confidence: 0.95 };

export interface Budget {
  /** Time the sweep has used so far, and all it may use. */
  readonly usedSeconds: number;
  readonly budgetSeconds: number;
  /** What one more sample of one arm of one row costs, as the caller measured it. */
  readonly secondsPerSample: number;
}

export type RowDecision =
  | { readonly key: string; readonly state: "not-judged" }
  /** The target is met: the answer (higher, lower or no difference) is known. */
  | { readonly key: string; readonly state: "done"; readonly answer: Answer }
  /** Run `off` and `on` more samples of this row's arms in the next round. */
  | { readonly key: string; readonly state: "more"; readonly off: number; readonly on: number; readonly answer: Answer }
  /** The samples cap is reached: the answer stands as it is (inconclusive with the precision reached, unless significant). */
  | { readonly key: string; readonly state: "capped"; readonly answer: Answer }
  /** No time left for the next sample: as capped. */
  | { readonly key: string; readonly state: "out-of-budget"; readonly answer: Answer };

export interface RoundPlan {
  readonly rows: readonly RowDecision[];
  /** What the samples asked for cost, at `secondsPerSample`. */
  readonly secondsNeeded: number;
  /** No row asks for more: stop the sweep. */
  readonly finished: boolean;
}

/** Only positive, finite values enter a log ratio (see ratio.ts). */
const usable = (xs: readonly Sample[]) => xs.filter((s) => s.value > 0 && Number.isFinite(s.value));

/**
 * The smallest number of values per arm (or of pairs) whose interval would meet the target if
 * the spread stayed as estimated now, searched up to `cap`; `cap` when even that is not enough.
 */
function projectedN(logSds: readonly number[], paired: boolean, halfWidthGoal: number, from: number, cap: number, confidence: number): number {
  const q = 1 - (1 - confidence) / 2;
  for (let n = Math.max(from, 2); n <= cap; n++) {
    let half: number;
    if (paired) {
      const s = logSds[0] ?? 0;
      half = s === 0 ? 0 : studentTQuantile(q, n - 1) * (s / Math.sqrt(n));
    } else {
      const v = logSds.map((s) => (s * s) / n);
      const se2 = v.reduce((a, b) => a + b, 0);
      // Welch–Satterthwaite with n in each arm.
      const df = se2 === 0 ? Infinity : (se2 * se2) / v.reduce((a, b) => a + (b * b) / (n - 1), 0);
      half = se2 === 0 ? 0 : studentTQuantile(q, Math.min(df, 1e6)) * Math.sqrt(se2);
    }
    if (half <= halfWidthGoal) return n;
  }
  return cap;
}

interface Need {
  readonly key: string;
  readonly off: number;
  readonly on: number;
  readonly answer: Answer;
}

/** What one row needs, before the budget is shared out. */
function assess(row: StopRow, policy: StopPolicy): RowDecision | Need {
  const r = ratioInterval(row.off, row.on, policy.confidence);
  const answer = judge(r, policy.target);
  const off = usable(row.off);
  const on = usable(row.on);
  const paired = r.method === "paired";
  const have = paired ? { off: r.pairs ?? 0, on: r.pairs ?? 0 } : { off: off.length, on: on.length };
  const enough = have.off >= policy.minPerArm && have.on >= policy.minPerArm;
  if (enough && isInterval(r) && targetMet(r, policy.target)) return { key: row.key, state: "done", answer };
  if (have.off >= policy.maxPerArm && have.on >= policy.maxPerArm) return { key: row.key, state: "capped", answer };
  const goal = Math.log1p(policy.target.relative);
  let want: number;
  if (!isInterval(r)) {
    want = policy.minPerArm;
  } else {
    const sds = paired ? [sampleSd(pairedLogRatios(row.off, row.on).diffs)] : [sampleSd(off.map((s) => Math.log(s.value))), sampleSd(on.map((s) => Math.log(s.value)))];
    const current = Math.max(have.off, have.on);
    // At most double per round: the spread is an estimate, re-estimated after every round.
    want = Math.min(projectedN(sds, paired, goal, current + 1, policy.maxPerArm, policy.confidence), Math.max(2 * current, policy.minPerArm));
  }
  want = Math.min(Math.max(want, policy.minPerArm, 2), policy.maxPerArm);
  const more = { off: Math.max(0, want - have.off), on: Math.max(0, want - have.on) };
  // Not at the minimum yet but the projection is met: one more each, so the row can stop next round.
  if (more.off + more.on === 0) return { key: row.key, off: have.off < policy.maxPerArm ? 1 : 0, on: have.on < policy.maxPerArm ? 1 : 0, answer };
  return { key: row.key, ...more, answer };
}

/**
 * The next round: rows that are done, capped or not judged ask for nothing; the others ask for
 * samples, granted cheapest first while the budget lasts. A row that cannot get even one more
 * sample per arm it needs is out of budget, and its answer stands with the precision reached.
 */
export function nextRound(rows: readonly StopRow[], policy: StopPolicy = DEFAULT_POLICY, budget: Budget): RoundPlan {
  const decided: RowDecision[] = [];
  const needs: Need[] = [];
  for (const row of rows) {
    if (!row.judged) {
      decided.push({ key: row.key, state: "not-judged" });
      continue;
    }
    const d = assess(row, policy);
    if ("state" in d) decided.push(d);
    else needs.push(d);
  }
  let left = Math.max(0, budget.budgetSeconds - budget.usedSeconds);
  let spent = 0;
  const granted = new Map<string, RowDecision>();
  for (const need of [...needs].sort((a, b) => a.off + a.on - (b.off + b.on))) {
    const cost = (need.off + need.on) * budget.secondsPerSample;
    if (cost <= left) {
      granted.set(need.key, { key: need.key, state: "more", off: need.off, on: need.on, answer: need.answer });
      left -= cost;
      spent += cost;
      continue;
    }
    // Part of the way: as many samples per arm as fit, in the arms that need them.
    const arms = (need.off > 0 ? 1 : 0) + (need.on > 0 ? 1 : 0);
    const fit = Math.floor(left / (arms * budget.secondsPerSample));
    if (arms > 0 && fit >= 1) {
      const off = Math.min(need.off, fit);
      const on = Math.min(need.on, fit);
      granted.set(need.key, { key: need.key, state: "more", off, on, answer: need.answer });
      left -= (off + on) * budget.secondsPerSample;
      spent += (off + on) * budget.secondsPerSample;
    } else {
      granted.set(need.key, { key: need.key, state: "out-of-budget", answer: need.answer });
    }
  }
  // In the order the rows were given.
  const all = new Map<string, RowDecision>([...decided.map((d): [string, RowDecision] => [d.key, d]), ...granted]);
  const ordered = rows.map((r) => all.get(r.key)).filter((d): d is RowDecision => d !== undefined);
  return { rows: ordered, secondsNeeded: spent, finished: !ordered.some((d) => d.state === "more") };
}
