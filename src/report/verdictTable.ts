import { fixed, fmtHost } from "./format";
import { fmtArmsAttribution, fmtMeanInterval } from "./loss";
import { MEASURE_SHORT } from "./measures";
import { fmtPrecision, precisionReached, RATIO_DIGITS } from "./precision";
import { isInterval } from "./ratio";
import type { VerdictRow } from "./verdict";

export const VERDICT_HEADER = [
  "OS", "MTU", "payload (B)", "sender", "host", "measure", "n off/on", "mean off → on", "on/off [95 % CI]", "precision", "verdict",
  "loss % off → on [95 % CI]", "out of order % off → on", "lost datagrams", "USO engaged", "flags",
] as const;

/** `throughput (Mbit/s), -b 0` or `CPU per Gbit/s, -b 100M`. */
export function fmtMeasure(r: Pick<VerdictRow, "measure" | "bitrate">): string {
  return r.measure === "throughput" ? `${MEASURE_SHORT.throughput} (Mbit/s), -b 0` : `${MEASURE_SHORT.cpu} (% per Gbit/s), -b ${r.bitrate}`;
}

/** `1.021 [0.990, 1.053]`, with `paired, 4 pairs` when the cells carried their pairs; `1.250 (no interval)` below n = 2. */
export function fmtRatio(r: VerdictRow): string {
  const d = RATIO_DIGITS;
  if (!isInterval(r.ratio)) return r.ratio.ratio === null ? "–" : `${fixed(r.ratio.ratio, d)} (no interval)`;
  const how = r.ratio.method === "paired" ? ` paired, ${r.ratio.pairs} pairs` : "";
  return `${fixed(r.ratio.ratio, d)} [${fixed(r.ratio.low, d)}, ${fixed(r.ratio.high, d)}]${how}`;
}

export function fmtRowPrecision(r: VerdictRow): string {
  return isInterval(r.ratio) ? fmtPrecision(precisionReached(r.ratio)) : "–";
}

const mean = (v: number | null, digits: number) => (v === null ? "–" : fixed(v, digits));

/** The verdict table's cells as plain text; each renderer escapes them its own way. */
export function verdictCells(r: VerdictRow): string[] {
  const digits = r.measure === "throughput" ? 1 : 2;
  return [
    r.os, String(r.mtu), String(r.payloadBytes), r.sender,
    r.kind === "cross-host" ? `off: ${r.hosts.off.join(", ")}; on: ${r.hosts.on.join(", ")}` : fmtHost(r.host),
    fmtMeasure(r), `${r.offSamples.length}/${r.onSamples.length}`,
    `${mean(r.offMean, digits)} → ${mean(r.onMean, digits)}`,
    fmtRatio(r), fmtRowPrecision(r), r.verdict,
    `${fmtMeanInterval(r.loss.off.lossPercent)} → ${fmtMeanInterval(r.loss.on.lossPercent)}`,
    `${fmtMeanInterval(r.loss.off.outOfOrderPercent)} → ${fmtMeanInterval(r.loss.on.outOfOrderPercent)}`,
    fmtArmsAttribution(r.loss),
    r.engaged.text, r.flags.join(", ") || "–",
  ];
}

/** What the verdict table says and how, in the words both reports print above it. */
export function verdictIntro(targetRelative: number): string[] {
  const target = fmtPrecision(targetRelative);
  return [
    "One row per OS × MTU × payload × sender × measure with both USO arms on one host. The measure is set by the bitrate: " +
      "receiver throughput at -b 0 (full rate), guest CPU per delivered Gbit/s at a fixed bitrate. " +
      "on/off is the ratio of the arms' geometric means with its 95 % interval on the log scale: paired (a one-sample t over " +
      "the per-pair log ratios) when the cells carry their in-lab pair, else Welch's t on the logs.",
    `Precision = how far the interval reaches either way from the estimate (×/÷ 1 + p); the target is ${target}. ` +
      "Verdict: faster/slower (throughput) or cheaper/costlier (CPU) with USO when the interval, as printed, excludes 1; " +
      `no difference when it contains 1 within ${target}; inconclusive with the precision reached otherwise; ` +
      "n too small below two counted values per arm (or two complete pairs). Plain-sender rows (not exercised), fragmented payloads " +
      "and arms from different hosts are shown but never judged.",
    "Loss and out-of-order per arm with 95 % intervals; lost datagrams split into drops at the receiver's socket and those missing " +
      "on the way where the receiver counted them. \"engaged, lossy\": USO engaged and the on arm lost significantly more.",
  ];
}
