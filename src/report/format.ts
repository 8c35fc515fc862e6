import type { Comparison, Group, Metric } from "./compare";
import { significance, type VerdictRow } from "./verdict";

const DIGITS: Readonly<Record<Metric, number>> = { throughput: 1, cpu: 1, loss: 2, jitter: 3, efficiency: 1 };

export function fmtValue(metric: Metric, v: number | null): string {
  return v === null || !Number.isFinite(v) ? "–" : v.toFixed(DIGITS[metric]);
}

export function fmtSigned(metric: Metric, v: number | null): string {
  if (v === null || !Number.isFinite(v)) return "–";
  const s = v.toFixed(DIGITS[metric]);
  return v > 0 ? `+${s}` : s;
}

/** `mean ± sd`, `mean (n=1)` or `–`. */
export function fmtMeanSd(group: Group, metric: Metric): string {
  const s = group.stats[metric];
  if (s.n === 0) return "–";
  if (s.n === 1) return `${fmtValue(metric, s.mean)} (n=1)`;
  return `${fmtValue(metric, s.mean)} ± ${fmtValue(metric, s.sd)}`;
}

export function fmtUso(uso: boolean): string {
  return uso ? "on" : "off";
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
  return Number.isFinite(c.interval.df) ? c.interval.df.toFixed(1) : "∞";
}

export function fmtPercent(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return "–";
  return `${v > 0 ? "+" : ""}${v.toFixed(1)} %`;
}

/** Flags of both sides of a comparison, each named with its side. */
export function comparisonFlags(c: Comparison): string[] {
  return [
    ...c.baseline.flags.map((f) => `baseline ${f}`),
    ...c.candidate.flags.map((f) => `candidate ${f}`),
  ];
}

/** `+12.3 (+2.1 %) [+5.0, +19.6]`: the difference, relative to the baseline, and its interval. */
export function fmtDifference(c: Comparison): string {
  const interval = c.interval === null ? "" : ` ${fmtInterval(c)}`;
  return `${fmtSigned(c.metric, c.diff)} (${fmtPercent(c.diffPercent)})${interval}`;
}

export function fmtPayload(payloadBytes: number | null): string {
  return payloadBytes === null ? "unknown" : String(payloadBytes);
}

export const VERDICT_HEADER = [
  "OS", "MTU", "payload (B)", "sender", "bitrate", "n off/on", "throughput off → on (Mbit/s)",
  "Δ throughput [95 % CI]", "significant", "Δ guest CPU (pp) [95 % CI]", "significant", "USO engaged", "flags",
] as const;

/** The verdict table's cells as plain text; each renderer escapes them its own way. */
export function verdictCells(r: VerdictRow): string[] {
  const n = (g: Group) => g.stats.throughput.n;
  return [
    r.os, String(r.mtu), String(r.payloadBytes), r.sender, r.bitrate, `${n(r.off)}/${n(r.on)}`,
    `${fmtValue("throughput", r.off.stats.throughput.n ? r.off.stats.throughput.mean : null)} → ${fmtValue("throughput", r.on.stats.throughput.n ? r.on.stats.throughput.mean : null)}`,
    fmtDifference(r.throughput), significance(r.throughput), fmtDifference(r.cpu), significance(r.cpu),
    r.engaged.text, r.flags.join(", ") || "–",
  ];
}
