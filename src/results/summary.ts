import type { CellResult, Sender } from "./cell";

export interface Statistic {
  readonly mean: number;
  /** Sample standard deviation (n − 1); 0 for a single value. */
  readonly stddev: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

/** The repetitions of one payload size from one sender (at one bitrate) of one variant. */
export interface PayloadSummary {
  readonly variant: string;
  readonly payloadBytes: number;
  readonly sender: Sender;
  readonly bitrate: string;
  readonly mtu: number;
  readonly fragmented: boolean;
  /** Cells per status: only `ok` cells enter the statistics. */
  readonly counts: { readonly ok: number; readonly failed: number; readonly invalid: number };
  readonly throughputBps: Statistic | null;
  readonly lossPercent: Statistic | null;
  readonly jitterMs: Statistic | null;
  readonly guestCpuPercent: Statistic | null;
  readonly hostCpuPercent: Statistic | null;
}

export function statistic(values: readonly number[]): Statistic | null {
  const n = values.length;
  if (n === 0) return null;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, stddev: Math.sqrt(variance), min: Math.min(...values), max: Math.max(...values), n };
}

function statOf(cells: readonly CellResult[], pick: (c: CellResult) => number | null): Statistic | null {
  return statistic(cells.map(pick).filter((v): v is number => v !== null));
}

/** Per payload size (and sender, bitrate and variant), in ascending payload order. */
export function summarize(cells: readonly CellResult[]): PayloadSummary[] {
  const groups = new Map<string, CellResult[]>();
  for (const c of cells) {
    // A plain and a gso cell measure different senders: never one mean.
    const key = JSON.stringify([c.variant, c.payloadBytes, c.sender ?? "plain", c.bitrate]);
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  return [...groups.values()]
    .map((group): PayloadSummary => {
      const ok = group.filter((c) => c.status === "ok");
      const first = group[0]!;
      return {
        variant: first.variant,
        payloadBytes: first.payloadBytes,
        sender: first.sender ?? "plain",
        bitrate: first.bitrate,
        mtu: first.mtu,
        fragmented: first.fragmented,
        counts: {
          ok: ok.length,
          failed: group.filter((c) => c.status === "failed").length,
          invalid: group.filter((c) => c.status === "invalid").length,
        },
        throughputBps: statOf(ok, (c) => c.throughputBps),
        lossPercent: statOf(ok, (c) => c.lossPercent),
        jitterMs: statOf(ok, (c) => c.jitterMs),
        guestCpuPercent: statOf(ok, (c) => c.guestCpuPercent),
        hostCpuPercent: statOf(ok, (c) => c.hostCpuPercent),
      };
    })
    .sort((a, b) => a.variant.localeCompare(b.variant) || a.payloadBytes - b.payloadBytes);
}
