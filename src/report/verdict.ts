import { IPV4_UDP_HEADER_BYTES } from "../config/features";
import type { Sender, UsoVerdict } from "../results/cell";
import { cmpPayload, cmpStr, SENDER_ORDER, type Analysis, type CellFlag, type CellRow, type Group } from "./compare";
import { fmtHost, plural } from "./format";
import type { HostComparison } from "./hosts";
import { compareLoss, fmtAttribution, fmtLossDiff, type LossComparison } from "./loss";
import { directionWord, MEASURES, type Measure } from "./measures";
import { DEFAULT_TARGET, fmtPrecision, judge, type Answer, type PrecisionTarget } from "./precision";
import { ratioInterval, type RatioInterval, type Sample, type TooFew } from "./ratio";
import { mean } from "./stats";
import type { StopRow } from "./stopping";

/** Did USO engage in the USO-on arm of a row, over its cells' evidence. */
export interface EngagedSummary {
  readonly verdict: UsoVerdict | "mixed";
  readonly text: string;
}

/**
 * What a row can show: `uso` a segmenting sender at a payload ≤ MTU − 28, both arms on one host;
 * `not-exercised` a plain sender at a payload ≤ MTU − 28; `fragmented` a payload above MTU − 28,
 * whatever the sender; `cross-host` the arms
 * ran on different hosts, so a difference could be the hosts'. Only `uso` rows are judged.
 */
export type RowKind = "uso" | "not-exercised" | "fragmented" | "cross-host";

/**
 * USO off vs on at one OS × MTU × payload × sender × measure (the measure is set by the bitrate:
 * throughput at "0", guest CPU per delivered Gbit/s at a fixed one), both arms from one host.
 */
export interface VerdictRow {
  /** Stable identity of the row, for the stopping rule and results.csv. */
  readonly key: string;
  readonly os: string;
  readonly mtu: number;
  readonly payloadBytes: number;
  readonly sender: Sender;
  readonly bitrate: string;
  readonly measure: Measure;
  /** The host both arms ran on; null when unknown. For a cross-host row, see `hosts`. */
  readonly host: string | null;
  readonly hosts: { readonly off: readonly string[]; readonly on: readonly string[] };
  readonly kind: RowKind;
  /** Every cell of each arm, counted or not. */
  readonly off: readonly CellRow[];
  readonly on: readonly CellRow[];
  /** The counted values of each arm, with their pairs where the cells carry them. */
  readonly offSamples: readonly Sample[];
  readonly onSamples: readonly Sample[];
  readonly offMean: number | null;
  readonly onMean: number | null;
  /** on/off with its 95 % interval, or why there is none. */
  readonly ratio: RatioInterval | TooFew;
  /** Null for rows that are not judged (`kind` other than `uso`). */
  readonly answer: Answer | null;
  readonly verdict: string;
  readonly loss: LossComparison;
  readonly engaged: EngagedSummary;
  /** The on arm engaged and lost significantly more than the off arm. */
  readonly lossy: boolean;
  readonly flags: readonly string[];
}

export const NOT_EXERCISED_TEXT =
  "not exercised: plain iperf3 hands the stack one datagram per call, so USO has nothing to segment; this row measures nothing about USO";
export const FRAGMENTED_TEXT = "fragmented: USO cannot apply (the payload is above MTU − 28, so IP splits every datagram before USO could segment it)";

/**
 * The on arm's evidence. A plain sender is `not-exercised` whatever else is known. Failed cells
 * ran no traffic and say nothing; the others vote.
 */
export function engagedSummary(sender: Sender, on: readonly CellRow[]): EngagedSummary {
  if (sender === "plain") return { verdict: "not-exercised", text: "not exercised (plain sender)" };
  const ran = on.filter((r) => r.cell.status !== "failed");
  const yes = ran.filter((r) => r.verdict === "yes");
  const no = ran.filter((r) => r.verdict === "no");
  const of = `of ${plural(ran.length, "cell")}`;
  if (yes.length > 0 && no.length > 0) return { verdict: "mixed", text: `mixed: yes in ${yes.length}, no in ${no.length} ${of}` };
  if (no.length > 0) return { verdict: "no", text: `no: ${no.length} ${of} showed no frame above MTU + 14 and no offload counter` };
  if (yes.length === 0) return { verdict: "unverified", text: `unverified: no capture and no NetKVM counter in ${ran.length} ${of}` };
  const e = yes.map((r) => r.cell.evidence);
  const largest = Math.max(...e.map((x) => x.largestFrame ?? x.capture?.largestFrameBytes ?? 0));
  const perFrame = e.map((x) => x.datagramsPerFrame).filter((v): v is number => typeof v === "number");
  const meanFrame = e.map((x) => x.meanFrameBytes).filter((v): v is number => typeof v === "number");
  const details = [
    largest > 0 ? `largest frame ${largest} B` : null,
    perFrame.length === 0 ? null : `${mean(perFrame).toFixed(1)} datagrams per frame`,
    meanFrame.length === 0 ? null : `mean frame ${mean(meanFrame).toFixed(0)} B on the tap`,
  ].filter((d) => d !== null);
  return { verdict: "yes", text: `yes: ${yes.length} ${of}${details.length > 0 ? `; ${details.join(", ")}` : ""}` };
}

function answerText(answer: Answer, measure: Measure, target: PrecisionTarget): string {
  switch (answer.kind) {
    case "higher":
    case "lower":
      return `${directionWord(measure, answer.kind)} with USO`;
    case "no-difference":
      return `no difference (within ${fmtPrecision(target.relative)})`;
    case "inconclusive":
      return `inconclusive (${fmtPrecision(answer.reached)} reached, target ${fmtPrecision(target.relative)})`;
    case "n-too-small":
      if (answer.nOff === 0 || answer.nOn === 0) return `no counted cells in one arm (n=${answer.nOff} vs ${answer.nOn})`;
      return answer.pairs !== null
        ? `n too small (${plural(answer.pairs, "complete pair")}; need 2)`
        : `n too small (n=${answer.nOff} vs ${answer.nOn}; need 2 each)`;
  }
}

function samples(rows: readonly CellRow[]): Sample[] {
  return rows
    .filter((r) => r.measured !== null)
    .map((r) => (r.cell.pair === undefined ? { value: r.measured as number } : { value: r.measured as number, pair: r.cell.pair }));
}

const FLAG_ORDER: readonly CellFlag[] = [
  "failed", "invalid", "stalled", "implausible", "no-throughput", "uso-not-engaged", "fragmented", "uso-unverified", "uso-not-exercised",
];

function armFlags(rows: readonly CellRow[], arm: string): string[] {
  const present = new Set(rows.flatMap((r) => r.flags));
  return FLAG_ORDER.filter((f) => present.has(f)).map((f) => `${arm}: ${f}`);
}

function rowOf(
  base: { os: string; mtu: number; payloadBytes: number; sender: Sender; bitrate: string; measure: Measure },
  host: string | null,
  off: readonly CellRow[],
  on: readonly CellRow[],
  crossHost: boolean,
  target: PrecisionTarget,
  hostFlags: readonly string[],
): VerdictRow {
  const hostsOf = (rows: readonly CellRow[]) => [...new Set(rows.map((r) => fmtHost(r.host)))].sort(cmpStr);
  const hosts = { off: hostsOf(off), on: hostsOf(on) };
  // Fragmented before not-exercised: above MTU − 28 no sender could show USO, and the seed's
  // plain 65507 B runs are read as fragmented first.
  const kind: RowKind = crossHost ? "cross-host"
    : base.payloadBytes > base.mtu - IPV4_UDP_HEADER_BYTES ? "fragmented"
    : base.sender === "plain" ? "not-exercised"
    : "uso";
  const offSamples = samples(off);
  const onSamples = samples(on);
  const ratio = ratioInterval(offSamples, onSamples);
  const answer = kind === "uso" ? judge(ratio, target) : null;
  const verdict = kind === "cross-host"
    ? `arms from different hosts (off: ${hosts.off.join(", ")}; on: ${hosts.on.join(", ")}): not a USO verdict`
    : kind === "not-exercised" ? NOT_EXERCISED_TEXT
    : kind === "fragmented" ? FRAGMENTED_TEXT
    : answerText(answer as Answer, base.measure, target);
  const loss = compareLoss(off, on);
  const engaged = engagedSummary(base.sender, on);
  const lossy = kind === "uso" && (engaged.verdict === "yes" || engaged.verdict === "mixed") && loss.higherWithUso;
  const shownEngaged: EngagedSummary = lossy
    ? { verdict: engaged.verdict, text: `engaged, lossy: ${engaged.text}; loss ${fmtLossDiff(loss)} with USO; on: ${fmtAttribution(loss.on.attribution)}` }
    : engaged;
  const values = (xs: readonly Sample[]) => (xs.length === 0 ? null : mean(xs.map((s) => s.value)));
  return {
    key: JSON.stringify([base.os, base.mtu, base.payloadBytes, base.sender, base.bitrate, crossHost ? "*" : host]),
    ...base,
    host: crossHost ? null : host,
    hosts,
    kind,
    off,
    on,
    offSamples,
    onSamples,
    offMean: values(offSamples),
    onMean: values(onSamples),
    ratio,
    answer,
    verdict,
    loss,
    engaged: shownEngaged,
    lossy,
    flags: [...(lossy ? ["engaged, lossy"] : []), ...armFlags(off, "off"), ...armFlags(on, "on"), ...hostFlags],
  };
}

/**
 * One row per OS × MTU × payload × sender × measure with both USO arms, per host: cells from
 * in-lab arms (`cell.arm`) and from per-variant stacks (the stack's `uso`) alike, whatever their
 * variant's name. Arms that exist only on different hosts make one `cross-host` row, never judged.
 */
export function verdictRows(analysis: Analysis, target: PrecisionTarget = DEFAULT_TARGET, hosts: readonly HostComparison[] = []): VerdictRow[] {
  const byKey = new Map<string, CellRow[]>();
  for (const r of analysis.rows) {
    if (r.uso === null || r.measure === null || r.cell.payloadBytes === null) continue;
    const key = JSON.stringify([r.run.os, r.cell.mtu, r.cell.payloadBytes, r.sender, r.cell.bitrate]);
    byKey.set(key, [...(byKey.get(key) ?? []), r]);
  }
  const out: VerdictRow[] = [];
  for (const list of byKey.values()) {
    const first = list[0] as CellRow;
    const base = {
      os: first.run.os, mtu: first.cell.mtu, payloadBytes: first.cell.payloadBytes as number, sender: first.sender,
      bitrate: first.cell.bitrate, measure: first.measure as Measure,
    };
    const byHost = new Map<string | null, CellRow[]>();
    for (const r of list) byHost.set(r.host, [...(byHost.get(r.host) ?? []), r]);
    const arm = (rows: readonly CellRow[], on: boolean) => rows.filter((r) => r.uso === on);
    const paired = [...byHost.entries()].filter(([, rows]) => arm(rows, false).length > 0 && arm(rows, true).length > 0);
    const differing = (host: string | null) => hosts
      .filter((h) => h.differs && h.host === host && h.sender === base.sender && h.payloadBytes === base.payloadBytes && h.bitrate === base.bitrate && h.mtu === base.mtu && h.os === base.os)
      .map((h) => `host ${h.host} differs from the other hosts (${h.uso === null ? "?" : h.uso ? "on" : "off"} arm)`);
    for (const [host, rows] of paired) out.push(rowOf(base, host, arm(rows, false), arm(rows, true), false, target, differing(host)));
    if (paired.length === 0 && arm(list, false).length > 0 && arm(list, true).length > 0) {
      out.push(rowOf(base, null, arm(list, false), arm(list, true), true, target, []));
    }
  }
  return out.sort((a, b) =>
    cmpStr(a.os, b.os) || a.mtu - b.mtu || MEASURES.indexOf(a.measure) - MEASURES.indexOf(b.measure) || cmpStr(a.bitrate, b.bitrate) ||
    SENDER_ORDER.indexOf(a.sender) - SENDER_ORDER.indexOf(b.sender) || cmpPayload(a.payloadBytes, b.payloadBytes) || cmpStr(a.host ?? "", b.host ?? ""));
}

/** The rows as the stopping rule takes them: only `uso` rows need samples. */
export function stopRows(rows: readonly VerdictRow[]): StopRow[] {
  return rows.map((r) => ({ key: r.key, judged: r.kind === "uso", off: r.offSamples, on: r.onSamples }));
}

/** Groups none of whose cells is in a verdict row: they appear only in the tables below it. */
export function unpaired(analysis: Analysis, rows: readonly VerdictRow[]): Group[] {
  const inRow = new Set(rows.flatMap((r) => [...r.off, ...r.on]));
  return analysis.groups.filter((g) => !g.rows.some((r) => inRow.has(r)));
}
