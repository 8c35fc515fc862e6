import { mean, oneSampleInterval, welchInterval } from "./stats";

/**
 * One measured value of one arm. `pair` is the in-lab off/on pair it belongs to (cell.pair):
 * pair k of arm off ran right before pair k of arm on, on the same boot.
 */
export interface Sample {
  readonly value: number;
  readonly pair?: number;
}

/**
 * on/off as a ratio with its confidence interval, computed on the log scale (where a ratio is a
 * difference) and brought back: `ratio` = exp(mean log on − mean log off), the ratio of the
 * geometric means; [low, high] = exp(d ∓ halfWidth). The interval is symmetric on the log
 * scale: ratio / e^halfWidth .. ratio · e^halfWidth.
 */
export interface RatioInterval {
  /** `paired`: a one-sample t on the per-pair log ratios; `welch`: Welch's t on the logs of each arm. */
  readonly method: "paired" | "welch";
  readonly ratio: number;
  readonly low: number;
  readonly high: number;
  /** t · se on the log scale. */
  readonly halfWidth: number;
  readonly df: number;
  readonly confidence: number;
  /** Values used per arm (paired: the cells of the complete pairs). */
  readonly nOff: number;
  readonly nOn: number;
  /** Complete pairs, for the paired method; null for Welch. */
  readonly pairs: number | null;
}

/** Why there is no interval: fewer than two values (or complete pairs) give no variance estimate. */
export interface TooFew {
  readonly method: "paired" | "welch";
  /** exp of the mean log difference when both arms have a value, else null. */
  readonly ratio: number | null;
  readonly nOff: number;
  readonly nOn: number;
  readonly pairs: number | null;
}

export function isInterval(r: RatioInterval | TooFew): r is RatioInterval {
  return "halfWidth" in r;
}

/** Only positive values have a logarithm: a zero throughput or CPU is left out of the ratio. */
function logs(xs: readonly Sample[]): number[] {
  return xs.filter((s) => s.value > 0 && Number.isFinite(s.value)).map((s) => Math.log(s.value));
}

/** Per pair, the mean log of an arm's values (several repetitions in one pair are averaged). */
function byPair(xs: readonly Sample[]): Map<number, number> {
  const lists = new Map<number, number[]>();
  for (const s of xs) {
    if (s.pair === undefined || !(s.value > 0 && Number.isFinite(s.value))) continue;
    lists.set(s.pair, [...(lists.get(s.pair) ?? []), Math.log(s.value)]);
  }
  return new Map([...lists.entries()].map(([k, v]) => [k, mean(v)]));
}

/** True when every value of both arms carries its pair: the paired method applies. */
export function isPaired(off: readonly Sample[], on: readonly Sample[]): boolean {
  return off.length > 0 && on.length > 0 && [...off, ...on].every((s) => s.pair !== undefined);
}

/**
 * One log ratio (on − off) per complete pair, in pair order, and the values of each arm that
 * sit in a complete pair.
 */
export function pairedLogRatios(off: readonly Sample[], on: readonly Sample[]): { diffs: number[]; nOff: number; nOn: number } {
  const a = byPair(off);
  const b = byPair(on);
  const complete = [...a.keys()].filter((k) => b.has(k)).sort((x, y) => x - y);
  const inPairs = (xs: readonly Sample[]) => xs.filter((s) => s.pair !== undefined && complete.includes(s.pair) && s.value > 0 && Number.isFinite(s.value)).length;
  return { diffs: complete.map((k) => (b.get(k) as number) - (a.get(k) as number)), nOff: inPairs(off), nOn: inPairs(on) };
}

/**
 * The on/off ratio and its interval. When every value of both arms carries a pair, the analysis
 * is paired: each complete pair gives one log ratio (on − off, same boot, measured back to back),
 * and a one-sample t interval is taken over them, so drift between pairs drops out. Otherwise
 * Welch's interval for the difference of the arms' mean logs (as bench/uso.ts computes it).
 */
export function ratioInterval(off: readonly Sample[], on: readonly Sample[], confidence = 0.95): RatioInterval | TooFew {
  if (isPaired(off, on)) {
    const { diffs, nOff, nOn } = pairedLogRatios(off, on);
    const counts = { nOff, nOn, pairs: diffs.length };
    const t = oneSampleInterval(diffs, confidence);
    if (t === null) return { method: "paired", ratio: diffs.length === 0 ? null : Math.exp(mean(diffs)), ...counts };
    const halfWidth = t.tCritical * t.se;
    return { method: "paired", ratio: Math.exp(t.mean), low: Math.exp(t.low), high: Math.exp(t.high), halfWidth, df: t.df, confidence, ...counts };
  }
  const a = logs(off);
  const b = logs(on);
  const counts = { nOff: a.length, nOn: b.length, pairs: null };
  const w = welchInterval(a, b, confidence);
  if (w === null) return { method: "welch", ratio: a.length > 0 && b.length > 0 ? Math.exp(mean(b) - mean(a)) : null, ...counts };
  return { method: "welch", ratio: Math.exp(w.diff), low: Math.exp(w.low), high: Math.exp(w.high), halfWidth: w.tCritical * w.se, df: w.df, confidence, ...counts };
}
