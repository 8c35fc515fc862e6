/**
 * What a cell measures for the USO verdict, decided by its bitrate: at "0" (unlimited) iperf3
 * sends as fast as the guest can, so the receiver's throughput is the measure; at a fixed
 * bitrate the throughput is set by the test, and what USO changes is the guest CPU it costs,
 * per delivered Gbit/s (so a cell that delivered less is not counted as cheaper).
 */
export type Measure = "throughput" | "cpu";

export const MEASURES: readonly Measure[] = ["throughput", "cpu"];

export const MEASURE_LABEL: Readonly<Record<Measure, string>> = {
  throughput: "receiver throughput at full rate (Mbit/s)",
  cpu: "guest CPU per delivered Gbit/s (% per Gbit/s)",
};

/** Short names for tables. */
export const MEASURE_SHORT: Readonly<Record<Measure, string>> = {
  throughput: "throughput",
  cpu: "CPU per Gbit/s",
};

/** `unknown` bitrates (imports whose file did not say) measure nothing the verdict can use. */
export function measureOf(bitrate: string): Measure | null {
  if (bitrate === "0") return "throughput";
  if (bitrate === "unknown") return null;
  return "cpu";
}

export interface MeasuredNumbers {
  readonly throughputBps?: number | null;
  readonly guestCpuPercent?: number | null;
}

const positive = (v: number | null | undefined): v is number => typeof v === "number" && Number.isFinite(v) && v > 0;

/** The cell's value for its measure: Mbit/s, or guest CPU % per delivered Gbit/s; null when not measured. */
export function measureValue(measure: Measure, c: MeasuredNumbers): number | null {
  if (!positive(c.throughputBps)) return null;
  if (measure === "throughput") return c.throughputBps / 1e6;
  if (typeof c.guestCpuPercent !== "number" || !Number.isFinite(c.guestCpuPercent) || c.guestCpuPercent < 0) return null;
  return c.guestCpuPercent / (c.throughputBps / 1e9);
}

/** The verdict's words: faster/slower for throughput, cheaper/costlier for CPU. */
export function directionWord(measure: Measure, direction: "higher" | "lower"): string {
  if (measure === "throughput") return direction === "higher" ? "faster" : "slower";
  return direction === "lower" ? "cheaper" : "costlier";
}
