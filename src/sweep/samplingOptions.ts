/**
 * `sweep --precision P --budget T --max-samples N`: sample each verdict row in rounds until its
 * 95 % interval meets the target, its arms reach the cap, or the time is spent. Parsed here so
 * that a user's typo is one line naming the option and what it takes (exit 2), never a late failure.
 */
export interface SamplingOptions {
  /** The precision target as a fraction: 0.1 for `10%`. */
  readonly precision: number;
  /** Lab time the sweep may spend on its stacks (their first up and every round), in seconds. */
  readonly budgetSeconds: number;
  /** Samples per arm at most (netperf's `-i 30,…`). */
  readonly maxPerArm: number;
}

export const DEFAULT_PRECISION = 0.1;
export const DEFAULT_MAX_SAMPLES = 30;
/** Samples per arm before a row may stop (netperf's `-i …,3`): below it an interval's width is itself too uncertain. */
export const MIN_PER_ARM = 3;

/** `10%` or `0.1`: a fraction in (0, 1). */
export function parsePrecision(text: string): number | string {
  const t = text.trim();
  const m = /^(\d+(?:\.\d+)?|\.\d+)(\s*%)?$/.exec(t);
  const why = `--precision "${text}": give the 95 % interval's half-width as a percentage or a fraction in (0, 100 %), e.g. 10% or 0.1`;
  if (m === null) return why;
  const value = m[2] !== undefined ? Number(m[1]) / 100 : Number(m[1]);
  if (!(value > 0 && value < 1)) return why;
  return value;
}

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600 };

/** `90s`, `20m`, `1h`, or `1h30m`: a positive duration of whole units, at most a week. */
export function parseDuration(text: string, option = "--budget"): number | string {
  const t = text.trim();
  const why = `${option} "${text}": give a duration such as 90s, 20m, 1h or 1h30m (s, m, h; more than 0, at most 168h)`;
  if (!/^(\d+[smh])+$/.test(t)) return why;
  let seconds = 0;
  for (const [, n, unit] of t.matchAll(/(\d+)([smh])/g)) seconds += Number(n) * UNIT_SECONDS[unit as string]!;
  if (seconds <= 0 || seconds > 168 * 3600) return why;
  return seconds;
}

/** A whole number of samples per arm, at least MIN_PER_ARM. */
export function parseMaxSamples(text: string): number | string {
  const t = text.trim();
  const n = /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(n) || n < MIN_PER_ARM || n > 100) {
    return `--max-samples "${text}": give a whole number of samples per arm from ${MIN_PER_ARM} (a row needs ${MIN_PER_ARM} per arm before it may stop) to 100 (benchmark.round takes at most 100 pairs a row)`;
  }
  return n;
}

/**
 * The three options together, or the first problem: `--precision` and `--max-samples` only
 * with `--budget` (without it the sweep runs each stack's matrix once and samples nothing more),
 * and never with `--samples` above 1 (the rounds decide how many samples each row gets).
 */
export function samplingOptions(o: { precision?: string; budget?: string; maxSamples?: string; samples?: number }): SamplingOptions | null | string {
  if (o.budget === undefined) {
    if (o.precision !== undefined) return "--precision needs --budget: the rounds that sample to a precision stop at the budget (e.g. --precision 10% --budget 20m)";
    if (o.maxSamples !== undefined) return "--max-samples needs --budget: it caps the rounds that --budget runs (e.g. --budget 20m --max-samples 30)";
    return null;
  }
  if (o.samples !== undefined && o.samples > 1) {
    return `--budget with --samples ${o.samples}: with --budget the rounds decide how many samples each row gets; give one or the other`;
  }
  const budgetSeconds = parseDuration(o.budget);
  if (typeof budgetSeconds === "string") return budgetSeconds;
  const precision = o.precision === undefined ? DEFAULT_PRECISION : parsePrecision(o.precision);
  if (typeof precision === "string") return precision;
  const maxPerArm = o.maxSamples === undefined ? DEFAULT_MAX_SAMPLES : parseMaxSamples(o.maxSamples);
  if (typeof maxPerArm === "string") return maxPerArm;
  return { precision, budgetSeconds, maxPerArm };
}

/** `1h 05m`, `12m 30s`, `45s`: how the round lines say a time. */
export function fmtSeconds(s: number): string {
  const t = Math.max(0, Math.round(s));
  const [h, m] = [Math.floor(t / 3600), Math.floor((t % 3600) / 60)];
  if (h > 0) return `${h}h ${String(m).padStart(2, "0")}m`;
  return m === 0 ? `${t}s` : `${m}m ${String(t % 60).padStart(2, "0")}s`;
}
