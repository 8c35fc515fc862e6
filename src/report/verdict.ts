import type { Sender, UsoVerdict } from "../results/cell";
import type { Analysis, CellFlag, Comparison, Group } from "./compare";

/** Did USO engage in the USO-on arm of a pair, over its cells' evidence. */
export interface EngagedSummary {
  readonly verdict: UsoVerdict | "mixed";
  readonly text: string;
}

/** USO off vs on at one OS × MTU × payload × sender × bitrate: the question the report is opened for. */
export interface VerdictRow {
  readonly os: string;
  readonly mtu: number;
  readonly payloadBytes: number;
  readonly sender: Sender;
  readonly bitrate: string;
  readonly off: Group;
  readonly on: Group;
  readonly throughput: Comparison;
  readonly cpu: Comparison;
  readonly engaged: EngagedSummary;
  /** Flags of either arm, named with the arm. */
  readonly flags: readonly string[];
}

export const NOT_EXERCISED_TEXT =
  "not exercised: plain iperf3 hands the stack one datagram per call, so USO has nothing to segment; this row measures nothing about USO";

function mean(xs: readonly number[]): number | null {
  return xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/**
 * The on arm's evidence. A plain sender is `not-exercised` whatever else is known. Failed cells
 * ran no traffic and say nothing; the others vote.
 */
export function engagedSummary(on: Group): EngagedSummary {
  if (on.sender === "plain") return { verdict: "not-exercised", text: NOT_EXERCISED_TEXT };
  const ran = on.rows.filter((r) => r.cell.status !== "failed");
  const yes = ran.filter((r) => r.verdict === "yes");
  const no = ran.filter((r) => r.verdict === "no");
  const of = `of ${ran.length} cell${ran.length === 1 ? "" : "s"}`;
  if (yes.length > 0 && no.length > 0) return { verdict: "mixed", text: `mixed: yes in ${yes.length}, no in ${no.length} ${of}` };
  if (no.length > 0) return { verdict: "no", text: `no: ${no.length} ${of} showed no frame above MTU + 14 and no offload counter` };
  if (yes.length === 0) return { verdict: "unverified", text: `unverified: no capture and no NetKVM counter in ${ran.length} ${of}` };
  const largest = Math.max(...yes.map((r) => r.cell.evidence.largestFrame ?? r.cell.evidence.capture?.largestFrameBytes ?? 0));
  const perFrame = mean(yes.map((r) => r.cell.evidence.datagramsPerFrame).filter((v): v is number => typeof v === "number"));
  const details = [
    largest > 0 ? `largest frame ${largest} B` : null,
    perFrame === null ? null : `${perFrame.toFixed(1)} datagrams per frame`,
  ].filter((d) => d !== null);
  return { verdict: "yes", text: `yes: ${yes.length} ${of}${details.length > 0 ? `; ${details.join(", ")}` : ""}` };
}

/** `yes, higher` / `yes, lower` / `no` from a Welch interval, or why there is none. */
export function significance(c: Comparison): string {
  const [a, b] = [c.baseline.stats[c.metric].n, c.candidate.stats[c.metric].n];
  if (a === 0 || b === 0) return `no counted cells on one side (n=${a} vs ${b})`;
  if (c.interval === null) return `n too small (n=${a} vs ${b}; need 2 each)`;
  if (c.interval.low > 0) return "yes, higher with USO";
  if (c.interval.high < 0) return "yes, lower with USO";
  return "no";
}

function flagsOf(g: Group, arm: string): string[] {
  return g.flags.map((f: CellFlag) => `${arm} ${f}`);
}

/** One row per USO off/on pair (the one-factor USO comparisons), in the comparisons' order. */
export function verdictRows(analysis: Analysis): VerdictRow[] {
  const uso = analysis.comparisons.filter((c) => c.factor === "uso");
  return uso
    .filter((c) => c.metric === "throughput")
    .map((t): VerdictRow => {
      const cpu = uso.find((c) => c.metric === "cpu" && c.baseline === t.baseline && c.candidate === t.candidate)!;
      const { baseline: off, candidate: on } = t;
      return {
        os: off.os,
        mtu: off.mtu,
        // USO pairs are only formed between known payloads.
        payloadBytes: off.payloadBytes as number,
        sender: off.sender,
        bitrate: off.bitrate,
        off,
        on,
        throughput: t,
        cpu,
        engaged: engagedSummary(on),
        flags: [...flagsOf(off, "off:"), ...flagsOf(on, "on:")],
      };
    });
}

/** Groups that have no partner in the other USO arm, so are not in the verdict table. */
export function unpaired(analysis: Analysis, rows: readonly VerdictRow[]): Group[] {
  const paired = new Set(rows.flatMap((r) => [r.off, r.on]));
  return analysis.groups.filter((g) => !paired.has(g));
}
