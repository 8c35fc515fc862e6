import type { Sender } from "../results/cell";
import { cmpPayload, METRICS, METRIC_LABEL, type Analysis, type CellFlag, type Group, type Metric } from "./compare";
import { counted, fmtUso } from "./format";
import { meanInterval } from "./stats";

/** One bar: a variant's mean in one category, its 95 % interval of the mean, and its flags. */
export interface Bar {
  readonly mean: number | null;
  /** Null below two counted values: no whisker, and the tooltip says n. */
  readonly low: number | null;
  readonly high: number | null;
  readonly n: number;
  readonly counted: string;
  readonly flags: readonly CellFlag[];
}

export interface Series {
  readonly label: string;
  readonly uso: boolean;
  /** Per category; null where the variant has no group there. */
  readonly bars: Readonly<Record<Metric, ReadonlyArray<Bar | null>>>;
}

export interface ChartData {
  /** One category per MTU × payload × sender (× bitrate when the inputs have several). */
  readonly labels: readonly string[];
  readonly metrics: ReadonlyArray<{ readonly id: Metric; readonly label: string }>;
  readonly series: readonly Series[];
}

interface Category {
  readonly mtu: number;
  readonly payloadBytes: number | null;
  readonly sender: Sender;
  readonly bitrate: string;
}

const categoryKey = (c: Category) => JSON.stringify([c.mtu, c.payloadBytes, c.sender, c.bitrate]);

function seriesLabel(g: Group): string {
  return `${g.variant} (${g.os}, USO ${fmtUso(g.uso)})`;
}

function bar(g: Group, metric: Metric): Bar {
  const values = g.rows.filter((r) => r.counted).map((r) => r.values[metric]).filter((v): v is number => v !== null);
  const ci = meanInterval(values);
  const s = g.stats[metric];
  return { mean: s.n === 0 ? null : s.mean, low: ci?.low ?? null, high: ci?.high ?? null, n: s.n, counted: counted(g), flags: g.flags };
}

/** What the page's script draws: grouped bars, one group per category, one bar per variant. */
export function chartData(analysis: Analysis): ChartData {
  const categories = [...new Map(analysis.groups.map((g) => [categoryKey(g), { mtu: g.mtu, payloadBytes: g.payloadBytes, sender: g.sender, bitrate: g.bitrate }])).values()]
    .sort((a, b) => a.mtu - b.mtu || cmpPayload(a.payloadBytes, b.payloadBytes) || (a.sender < b.sender ? -1 : a.sender > b.sender ? 1 : 0) || (a.bitrate < b.bitrate ? -1 : a.bitrate > b.bitrate ? 1 : 0));
  const severalRates = new Set(categories.map((c) => c.bitrate)).size > 1;
  const bySeries = new Map<string, Group[]>();
  for (const g of analysis.groups) bySeries.set(seriesLabel(g), [...(bySeries.get(seriesLabel(g)) ?? []), g]);
  return {
    labels: categories.map((c) =>
      [`MTU ${c.mtu}`, c.payloadBytes === null ? "payload unknown" : `${c.payloadBytes} B`, c.sender, ...(severalRates ? [c.bitrate] : [])].join(" · "),
    ),
    metrics: METRICS.map((m) => ({ id: m, label: METRIC_LABEL[m] })),
    series: [...bySeries.entries()].map(([label, groups]): Series => {
      const at = categories.map((c) => groups.find((g) => categoryKey(g) === categoryKey(c)) ?? null);
      const bars = {} as Record<Metric, Array<Bar | null>>;
      for (const m of METRICS) bars[m] = at.map((g) => (g === null ? null : bar(g, m)));
      return { label, uso: groups[0]!.uso, bars };
    }),
  };
}
