import { SENDERS } from "../config/features";
import { cmpPayload, cmpStr, METRICS, METRIC_LABEL, type CellFlag, type Group, type Metric } from "./compare";
import { counted, fmtHost, fmtUso } from "./format";
import { MEASURES, MEASURE_LABEL, type Measure } from "./measures";
import type { ReportModel } from "./model";
import { isInterval } from "./ratio";
import { meanInterval } from "./stats";
import type { VerdictRow } from "./verdict";
import { fmtRowPrecision } from "./verdictTable";

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
  /** Per category; null where the variant has no group there. */
  readonly bars: Readonly<Record<Metric, ReadonlyArray<Bar | null>>>;
}

/** One verdict row as a chart draws it: the on/off ratio and its interval. */
export interface VerdictPoint {
  readonly ratio: number | null;
  readonly low: number | null;
  readonly high: number | null;
  /** False for rows that are never judged (not exercised, fragmented, arms from different hosts). */
  readonly judged: boolean;
  readonly verdict: string;
  readonly precision: string;
}

export interface VerdictChart {
  readonly id: string;
  readonly title: string;
  readonly axisTitle: string;
  readonly labels: readonly string[];
  readonly points: readonly VerdictPoint[];
}

export interface ChartData {
  /** One category per MTU × payload × sender (× bitrate, × host when the inputs have several). */
  readonly labels: readonly string[];
  /** The parts each label is made of, in order: the category axis' title. */
  readonly axisTitle: string;
  readonly metrics: ReadonlyArray<{ readonly id: Metric; readonly label: string }>;
  readonly series: readonly Series[];
  /** One chart per measure that has verdict rows. */
  readonly verdict: readonly VerdictChart[];
}

interface Category {
  readonly mtu: number;
  readonly payloadBytes: number | null;
  readonly sender: Group["sender"];
  readonly bitrate: string;
  readonly host: string | null;
}

const categoryKey = (c: Category) => JSON.stringify([c.mtu, c.payloadBytes, c.sender, c.bitrate, c.host]);

function seriesLabel(g: Group): string {
  return `${g.variant} (${g.os}, USO ${fmtUso(g.uso)})`;
}

function bar(g: Group, metric: Metric): Bar {
  const values = g.rows.filter((r) => r.counted).map((r) => r.values[metric]).filter((v): v is number => v !== null);
  const ci = meanInterval(values);
  const s = g.stats[metric];
  return { mean: s.n === 0 ? null : s.mean, low: ci?.low ?? null, high: ci?.high ?? null, n: s.n, counted: counted(g), flags: g.flags };
}

/**
 * Labels and the axis title from the same parts, so a label never carries what the title does
 * not name: MTU, payload and sender always; bitrate and host when the inputs have several.
 */
function labelling<T>(items: readonly T[], parts: ReadonlyArray<{ name: string; text: (t: T) => string; always: boolean }>): { labels: string[]; title: string } {
  const used = parts.filter((p) => p.always || new Set(items.map(p.text)).size > 1);
  return { labels: items.map((t) => used.map((p) => p.text(t)).join(" · ")), title: used.map((p) => p.name).join(" · ") };
}

function verdictCharts(rows: readonly VerdictRow[]): VerdictChart[] {
  return MEASURES.flatMap((measure: Measure): VerdictChart[] => {
    const list = rows.filter((r) => r.measure === measure);
    if (list.length === 0) return [];
    const { labels, title } = labelling(list, [
      { name: "OS", text: (r) => r.os, always: false },
      { name: "MTU", text: (r) => `MTU ${r.mtu}`, always: true },
      { name: "payload", text: (r) => `${r.payloadBytes} B`, always: true },
      { name: "sender", text: (r) => r.sender, always: true },
      { name: "bitrate", text: (r) => r.bitrate, always: measure === "cpu" },
      { name: "host", text: (r) => (r.kind === "cross-host" ? "different hosts" : fmtHost(r.host)), always: false },
    ]);
    return [{
      id: `verdict-${measure}`,
      title: `USO on/off: ${MEASURE_LABEL[measure]}`,
      axisTitle: title,
      labels,
      points: list.map((r) => ({
        ratio: r.ratio.ratio,
        low: isInterval(r.ratio) ? r.ratio.low : null,
        high: isInterval(r.ratio) ? r.ratio.high : null,
        judged: r.kind === "uso",
        verdict: r.verdict,
        precision: fmtRowPrecision(r),
      })),
    }];
  });
}

/** What the page's script draws: the verdict's ratios, then grouped bars (one group per category, one bar per variant). */
export function chartData(model: ReportModel): ChartData {
  const { groups } = model.analysis;
  const categories = [...new Map(groups.map((g) => [categoryKey(g), { mtu: g.mtu, payloadBytes: g.payloadBytes, sender: g.sender, bitrate: g.bitrate, host: g.host }])).values()]
    .sort((a, b) => a.mtu - b.mtu || cmpPayload(a.payloadBytes, b.payloadBytes) || SENDERS.indexOf(a.sender) - SENDERS.indexOf(b.sender) ||
      cmpStr(a.bitrate, b.bitrate) || cmpStr(a.host ?? "", b.host ?? ""));
  const { labels, title } = labelling(categories, [
    { name: "MTU", text: (c) => `MTU ${c.mtu}`, always: true },
    { name: "payload", text: (c) => (c.payloadBytes === null ? "payload unknown" : `${c.payloadBytes} B`), always: true },
    { name: "sender", text: (c) => c.sender, always: true },
    { name: "bitrate", text: (c) => c.bitrate, always: false },
    { name: "host", text: (c) => fmtHost(c.host), always: false },
  ]);
  const bySeries = new Map<string, Group[]>();
  for (const g of groups) bySeries.set(seriesLabel(g), [...(bySeries.get(seriesLabel(g)) ?? []), g]);
  return {
    labels,
    axisTitle: title,
    metrics: METRICS.map((m) => ({ id: m, label: METRIC_LABEL[m] })),
    series: [...bySeries.entries()].map(([label, list]): Series => {
      const at = categories.map((c) => list.find((g) => categoryKey(g) === categoryKey(c)) ?? null);
      const bars = {} as Record<Metric, Array<Bar | null>>;
      for (const m of METRICS) bars[m] = at.map((g) => (g === null ? null : bar(g, m)));
      return { label, bars };
    }),
    verdict: verdictCharts(model.verdicts),
  };
}

/** Pixels each bar gets across (height of a horizontal bar), before Chart.js' percentages. */
export const SLOT_PER_BAR = 16;
/** Title, legend, axis title and ticks around the bars. */
const CHART_CHROME = 150;

/** A chart's height: every category gets room for a visible bar per series, so more groups make a taller chart. */
export function chartHeight(categories: number, seriesCount: number): number {
  const legendRows = Math.ceil(seriesCount / 3);
  return Math.max(240, CHART_CHROME + legendRows * 22 + categories * Math.max(1, seriesCount) * SLOT_PER_BAR);
}
