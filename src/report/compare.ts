import { SENDERS } from "../config/features";
import type { Sender, UsoVerdict } from "../results/cell";
import { implausibleNumbers } from "../results/plausible";
import { DIGITS, excludesZero } from "./format";
import { UNKNOWN_OS, type LoadedRun, type ReportCell } from "./load";
import { measureOf, measureValue, type Measure } from "./measures";
import { summarize, welchInterval, type Summary, type WelchInterval } from "./stats";

/**
 * Why a cell is set apart. Excluded cells never enter a mean; the others enter it with the flag
 * carried onto their group, so no view can show them as plain numbers.
 */
export type CellFlag =
  | "failed" | "invalid" | "stalled" | "implausible" | "no-throughput" | "uso-not-engaged" | "fragmented" | "uso-unverified" | "uso-not-exercised";

const EXCLUDING: ReadonlySet<CellFlag> = new Set(["failed", "invalid", "stalled", "implausible", "no-throughput", "uso-not-engaged"]);

export const FLAG_MEANING: Readonly<Record<CellFlag, string>> = {
  failed: "iperf3 failed: no measurement (excluded)",
  invalid: "the result was judged invalid (excluded)",
  stalled: "the receiver stalled part-way, esnet/iperf#1934 (excluded)",
  implausible: "a number no run can produce: negative, beyond 1 Tbit/s, loss outside 0–100 % or more packets than the duration allows (excluded)",
  "no-throughput": "no receiver throughput recorded (excluded)",
  "uso-not-engaged": "USO was requested but the evidence says it never engaged (excluded)",
  fragmented: "payload > MTU − 28: every datagram is IP-fragmented, USO cannot apply (counted, compare only with the same payload)",
  "uso-unverified": "USO was requested but no evidence shows whether it engaged (counted)",
  "uso-not-exercised": "USO was requested but the sender is plain iperf3, which hands the stack one datagram at a time: nothing for USO to segment, so this measures nothing about USO (counted)",
};

export type Factor = "uso" | "mtu" | "os";
export const FACTORS: readonly Factor[] = ["uso", "mtu", "os"];

export type Metric = "throughput" | "cpu" | "loss" | "jitter" | "efficiency";
export const METRICS: readonly Metric[] = ["throughput", "cpu", "loss", "jitter", "efficiency"];
export const METRIC_LABEL: Readonly<Record<Metric, string>> = {
  throughput: "Throughput (Mbit/s, receiver)",
  cpu: "Guest CPU (%)",
  loss: "Loss (%)",
  jitter: "Jitter (ms)",
  efficiency: "Efficiency (Mbit/s per guest CPU %)",
};

export interface CellRow {
  readonly run: LoadedRun;
  readonly cell: ReportCell;
  /**
   * The USO arm: the cell's own `arm` (in-lab arms), else its variant's USO (per-variant stacks),
   * else, in files from before factors, the cell's `evidence.usoRequested`; null when unknown.
   */
  readonly uso: boolean | null;
  /** The KVM host the cell ran on; null when unknown. */
  readonly host: string | null;
  /** The cell's sender; files from before senders existed ran plain iperf3. */
  readonly sender: Sender;
  /** The cell's USO verdict, with the pre-verdict `unknown` read as `unverified`. */
  readonly verdict: UsoVerdict;
  readonly flags: readonly CellFlag[];
  /** Why the cell's numbers cannot have been measured (flag `implausible`). */
  readonly implausible: readonly string[];
  readonly counted: boolean;
  readonly values: Readonly<Record<Metric, number | null>>;
  /** What the cell measures for the USO verdict (by its bitrate) and its value; null when nothing. */
  readonly measure: Measure | null;
  readonly measured: number | null;
}

/** One variant, USO arm and host at one payload and bitrate: the unit that is averaged and compared. */
export interface Group {
  readonly key: string;
  readonly variant: string;
  readonly os: string;
  readonly mtu: number;
  readonly uso: boolean | null;
  readonly host: string | null;
  readonly sender: Sender;
  /** Null: imported runs whose file did not say (they failed before their test began). */
  readonly payloadBytes: number | null;
  readonly bitrate: string;
  readonly rows: readonly CellRow[];
  /** Every flag any of its cells carries, in a fixed order. */
  readonly flags: readonly CellFlag[];
  readonly stats: Readonly<Record<Metric, Summary>>;
}

export interface Comparison {
  readonly factor: Factor;
  readonly metric: Metric;
  /** The reference side: USO off, the smaller MTU, or the OS first in alphabetical order. */
  readonly baseline: Group;
  readonly candidate: Group;
  /** mean(candidate) − mean(baseline); null when a side has no counted value. */
  readonly diff: number | null;
  /** diff relative to the baseline mean, in percent; null when undefined. */
  readonly diffPercent: number | null;
  /** Null when n is too small to tell. */
  readonly interval: WelchInterval | null;
  readonly verdict: string;
}

const FLAG_ORDER: readonly CellFlag[] = [
  "failed", "invalid", "stalled", "implausible", "no-throughput", "uso-not-engaged", "fragmented", "uso-unverified", "uso-not-exercised",
];

function armOf(run: LoadedRun, cell: ReportCell): boolean | null {
  if (cell.arm !== undefined) return cell.arm === "on";
  if (run.uso !== null) return run.uso;
  return run.armFromCells ? cell.evidence.usoRequested : null;
}

/**
 * A plain sender cannot exercise USO, whatever a file from before the verdict enum says about
 * frames: its verdict is `not-exercised`. `unknown` (the old "no evidence") is `unverified`.
 */
function verdictOf(cell: ReportCell, sender: Sender): UsoVerdict {
  if (sender === "plain") return "not-exercised";
  const v = cell.evidence.usoEngaged;
  return v === "unknown" || v === "not-exercised" ? "unverified" : v;
}

function cellFlags(cell: ReportCell, uso: boolean | null, verdict: UsoVerdict, implausible: boolean): CellFlag[] {
  const flags: CellFlag[] = [];
  if (cell.status === "failed") flags.push("failed");
  if (cell.status === "invalid") flags.push("invalid");
  if (cell.stalled) flags.push("stalled");
  if (implausible) flags.push("implausible");
  if (cell.status === "ok" && (cell.throughputBps === null || cell.throughputBps === undefined)) flags.push("no-throughput");
  if (uso === true && verdict === "no") flags.push("uso-not-engaged");
  if (cell.fragmented) flags.push("fragmented");
  if (uso === true && verdict === "unverified") flags.push("uso-unverified");
  if (uso === true && verdict === "not-exercised") flags.push("uso-not-exercised");
  return flags;
}

function num(v: number | null | undefined): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

export function cellRows(runs: readonly LoadedRun[]): CellRow[] {
  return runs.flatMap((run) =>
    run.cells.map((cell): CellRow => {
      const uso = armOf(run, cell);
      const sender = cell.sender ?? "plain";
      const verdict = verdictOf(cell, sender);
      // A failed cell's numbers are not read; the others' must be numbers a run can produce.
      const implausible = cell.status === "failed" ? [] : implausibleNumbers(cell);
      const flags = cellFlags(cell, uso, verdict, implausible.length > 0);
      const counted = !flags.some((f) => EXCLUDING.has(f));
      const throughput = num(cell.throughputBps) === null ? null : (cell.throughputBps as number) / 1e6;
      const cpu = num(cell.guestCpuPercent);
      const measure = measureOf(cell.bitrate);
      return {
        run,
        cell,
        uso,
        host: run.host,
        sender,
        verdict,
        flags,
        implausible,
        counted,
        values: {
          throughput,
          cpu,
          loss: num(cell.lossPercent),
          jitter: num(cell.jitterMs),
          efficiency: throughput !== null && cpu !== null && cpu > 0 ? throughput / cpu : null,
        },
        measure,
        measured: measure === null || !counted ? null : measureValue(measure, cell),
      };
    }),
  );
}

/** Code-unit order: the same on every machine, unlike localeCompare. */
export function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Unknown payloads (failed imports) sort last. */
export function cmpPayload(a: number | null, b: number | null): number {
  return (a ?? Infinity) - (b ?? Infinity) || 0;
}


const usoRank = (u: boolean | null): number => (u === null ? 2 : Number(u));

function compareGroups(a: Group, b: Group): number {
  return (
    cmpStr(a.os, b.os) || a.mtu - b.mtu || usoRank(a.uso) - usoRank(b.uso) || cmpStr(a.variant, b.variant) ||
    cmpStr(a.host ?? "", b.host ?? "") || SENDERS.indexOf(a.sender) - SENDERS.indexOf(b.sender) ||
    cmpPayload(a.payloadBytes, b.payloadBytes) || cmpStr(a.bitrate, b.bitrate)
  );
}

export function groupRows(rows: readonly CellRow[]): Group[] {
  const byKey = new Map<string, CellRow[]>();
  for (const row of rows) {
    const key = JSON.stringify([row.run.variant, row.run.os, row.cell.mtu, row.uso, row.host, row.sender, row.cell.payloadBytes, row.cell.bitrate]);
    byKey.set(key, [...(byKey.get(key) ?? []), row]);
  }
  const groups = [...byKey.entries()].map(([key, list]): Group => {
    const first = list[0] as CellRow;
    const present = new Set(list.flatMap((r) => r.flags));
    const counted = list.filter((r) => r.counted);
    const stats = Object.fromEntries(
      METRICS.map((m) => [m, summarize(counted.map((r) => r.values[m]).filter((v): v is number => v !== null))]),
    ) as Record<Metric, Summary>;
    return {
      key,
      variant: first.run.variant,
      os: first.run.os,
      mtu: first.cell.mtu,
      uso: first.uso,
      host: first.host,
      sender: first.sender,
      payloadBytes: first.cell.payloadBytes,
      bitrate: first.cell.bitrate,
      rows: list,
      flags: FLAG_ORDER.filter((f) => present.has(f)),
      stats,
    };
  });
  return groups.sort(compareGroups);
}

/**
 * The single factor in which two groups differ, or null when they differ in none or several.
 * An unknown OS or USO arm is no evidence of a difference: such a pair is not compared at all.
 * Groups from different hosts are never compared here: the host is a factor of its own (hosts.ts).
 */
function soleDifference(a: Group, b: Group): Factor | null {
  if (a.os !== b.os && (a.os === UNKNOWN_OS || b.os === UNKNOWN_OS)) return null;
  if (a.uso !== b.uso && (a.uso === null || b.uso === null)) return null;
  if (a.host !== b.host) return null;
  const differs: Factor[] = [];
  if (a.uso !== b.uso) differs.push("uso");
  if (a.mtu !== b.mtu) differs.push("mtu");
  if (a.os !== b.os) differs.push("os");
  return differs.length === 1 ? (differs[0] as Factor) : null;
}

function isBaseline(factor: Factor, a: Group, b: Group): boolean {
  if (factor === "uso") return a.uso === false;
  if (factor === "mtu") return a.mtu < b.mtu;
  return a.os < b.os;
}

function metricValues(g: Group, metric: Metric): number[] {
  return g.rows.filter((r) => r.counted).map((r) => r.values[metric]).filter((v): v is number => v !== null);
}

/**
 * What a USO pair cannot show: a plain sender hands the stack one datagram per call, and a
 * fragmented payload is split by IP before USO could segment it. Null when it can show USO.
 */
export function usoCannotShow(g: Group): "not exercised" | "fragmented" | null {
  if (g.sender === "plain") return "not exercised";
  if (g.payloadBytes !== null && g.flags.includes("fragmented")) return "fragmented";
  return null;
}

function differenceVerdict(factor: Factor, metric: Metric, baseline: Group, a: number[], b: number[], interval: WelchInterval | null): string {
  if (a.length === 0 || b.length === 0) return `no counted cells on one side (n=${a.length} vs ${b.length})`;
  const cannot = factor === "uso" ? usoCannotShow(baseline) : null;
  if (cannot === "not exercised") return "not exercised: a plain sender shows nothing about USO";
  if (cannot === "fragmented") return "fragmented: USO cannot apply";
  if (interval === null) return `n too small to tell (n=${a.length} vs ${b.length}; need at least 2 each)`;
  const side = excludesZero(interval.low, interval.high, DIGITS[metric]);
  if (side === "above") return "candidate higher";
  if (side === "below") return "candidate lower";
  return "no difference shown";
}

export function compare(groups: readonly Group[]): Comparison[] {
  const out: Comparison[] = [];
  groups.forEach((x, i) => {
    for (const y of groups.slice(i + 1)) {
      // Same payload, bitrate and sender: a different sender is a different experiment, not a factor.
      if (x.payloadBytes === null || x.payloadBytes !== y.payloadBytes || x.bitrate !== y.bitrate || x.sender !== y.sender) continue;
      const factor = soleDifference(x, y);
      if (factor === null) continue;
      const [baseline, candidate] = isBaseline(factor, x, y) ? [x, y] : [y, x];
      for (const metric of METRICS) {
        const a = metricValues(baseline, metric);
        const b = metricValues(candidate, metric);
        const interval = welchInterval(a, b);
        const diff = a.length > 0 && b.length > 0 ? candidate.stats[metric].mean - baseline.stats[metric].mean : null;
        const base = baseline.stats[metric].mean;
        out.push({
          factor,
          metric,
          baseline,
          candidate,
          diff,
          diffPercent: diff !== null && base !== 0 ? (diff / Math.abs(base)) * 100 : null,
          interval,
          verdict: differenceVerdict(factor, metric, baseline, a, b, interval),
        });
      }
    }
  });
  const factorRank = (f: Factor): number => FACTORS.indexOf(f);
  return out.sort(
    (p, q) =>
      METRICS.indexOf(p.metric) - METRICS.indexOf(q.metric) || factorRank(p.factor) - factorRank(q.factor) ||
      cmpPayload(p.baseline.payloadBytes, q.baseline.payloadBytes) || compareGroups(p.baseline, q.baseline) ||
      compareGroups(p.candidate, q.candidate),
  );
}

export interface Analysis {
  readonly runs: readonly LoadedRun[];
  readonly rows: readonly CellRow[];
  readonly groups: readonly Group[];
  readonly comparisons: readonly Comparison[];
  /** Inputs counted once although given more than once (load.ts). */
  readonly notes: readonly string[];
}

export function analyze(runs: readonly LoadedRun[], notes: readonly string[] = []): Analysis {
  const rows = cellRows(runs);
  const groups = groupRows(rows);
  return { runs, rows, groups, comparisons: compare(groups), notes };
}
