import type { Comparison, Group, Metric } from "./compare";

/** Digits shown per metric; a difference is significant only if its interval, so shown, excludes 0. */
export const DIGITS: Readonly<Record<Metric, number>> = { throughput: 1, cpu: 1, loss: 2, jitter: 3, efficiency: 1 };

/** `toFixed` that never prints a negative zero: -0.04 to one digit is "0.0", not "-0.0". */
export function fixed(v: number, digits: number): string {
  const s = v.toFixed(digits);
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

/** Which side of 0 an interval lies on, judged on the values as printed with `digits`. */
export function excludesZero(low: number, high: number, digits: number): "above" | "below" | null {
  if (Number(low.toFixed(digits)) > 0) return "above";
  if (Number(high.toFixed(digits)) < 0) return "below";
  return null;
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

export function fmtValue(metric: Metric, v: number | null): string {
  return v === null || !Number.isFinite(v) ? "–" : fixed(v, DIGITS[metric]);
}

/** Signed, with "+" for positive and no sign for a value that prints as zero. */
export function signed(v: number, digits: number): string {
  const s = fixed(v, digits);
  return Number(s) > 0 ? `+${s}` : s;
}

export function fmtSigned(metric: Metric, v: number | null): string {
  return v === null || !Number.isFinite(v) ? "–" : signed(v, DIGITS[metric]);
}

/** `mean ± sd`, `mean (n=1)` or `–`. */
export function fmtMeanSd(group: Group, metric: Metric): string {
  const s = group.stats[metric];
  if (s.n === 0) return "–";
  if (s.n === 1) return `${fmtValue(metric, s.mean)} (n=1)`;
  return `${fmtValue(metric, s.mean)} ± ${fmtValue(metric, s.sd)}`;
}

export function fmtUso(uso: boolean | null): string {
  return uso === null ? "?" : uso ? "on" : "off";
}

export function counted(group: Group): string {
  return `${group.rows.filter((r) => r.counted).length}/${group.rows.length}`;
}

export function fmtInterval(c: Comparison): string {
  if (c.interval === null) return "–";
  return `[${fmtSigned(c.metric, c.interval.low)}, ${fmtSigned(c.metric, c.interval.high)}]`;
}

export function fmtDf(c: Comparison): string {
  if (c.interval === null) return "–";
  return Number.isFinite(c.interval.df) ? fixed(c.interval.df, 1) : "∞";
}

export function fmtPercent(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return "–";
  return `${signed(v, 1)} %`;
}

/** Flags of both sides of a comparison, each named with its side. */
export function comparisonFlags(c: Comparison): string[] {
  return [
    ...c.baseline.flags.map((f) => `baseline ${f}`),
    ...c.candidate.flags.map((f) => `candidate ${f}`),
  ];
}

export function fmtPayload(payloadBytes: number | null): string {
  return payloadBytes === null ? "unknown" : String(payloadBytes);
}

export function fmtHost(host: string | null): string {
  return host ?? "unknown";
}

/** Where a cell's error column comes from: iperf3's error, or why its numbers are impossible. */
export function cellProblem(error: string | null | undefined, implausible: readonly string[]): string | null {
  if (error !== null && error !== undefined) return error;
  return implausible.length > 0 ? `impossible numbers: ${implausible.join("; ")}` : null;
}
