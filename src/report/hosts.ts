import { SENDERS } from "../config/features";
import type { Sender } from "../results/cell";
import { cmpPayload, cmpStr, type CellRow } from "./compare";
import { fmtUso } from "./format";
import type { Measure } from "./measures";
import { judge, RATIO_DIGITS, shown } from "./precision";
import { isInterval, ratioInterval, type RatioInterval, type TooFew } from "./ratio";
import { mean } from "./stats";

/**
 * One host against the other hosts that ran the same variant, arm, sender, payload and bitrate,
 * on one measure: the ratio of its values to theirs (Welch on the logs). With k hosts, k
 * comparisons are made, so each interval is at 1 − 0.05/k (Bonferroni): across all of them the
 * chance of flagging a sound host stays at most 5 %.
 */
export interface HostComparison {
  readonly variant: string;
  readonly os: string;
  readonly mtu: number;
  readonly uso: boolean | null;
  readonly sender: Sender;
  readonly payloadBytes: number;
  readonly bitrate: string;
  readonly measure: Measure;
  readonly host: string;
  readonly n: number;
  readonly mean: number | null;
  readonly others: { readonly hosts: readonly string[]; readonly n: number; readonly mean: number | null };
  /** host / others. */
  readonly ratio: RatioInterval | TooFew;
  readonly confidence: number;
  /** The interval, as shown, excludes 1: this host's results differ from the others'. */
  readonly differs: boolean;
  readonly verdict: string;
}

const measured = (rows: readonly CellRow[]) => rows.map((r) => r.measured).filter((v): v is number => v !== null);

/** Host comparisons wherever one variant's cells came from two or more known hosts. */
export function hostComparisons(rows: readonly CellRow[]): HostComparison[] {
  const byKey = new Map<string, CellRow[]>();
  for (const r of rows) {
    if (r.host === null || r.measure === null || r.cell.payloadBytes === null) continue;
    const key = JSON.stringify([r.run.variant, r.run.os, r.cell.mtu, r.uso, r.sender, r.cell.payloadBytes, r.cell.bitrate]);
    byKey.set(key, [...(byKey.get(key) ?? []), r]);
  }
  const out: HostComparison[] = [];
  for (const list of byKey.values()) {
    const hosts = [...new Set(list.map((r) => r.host as string))].sort(cmpStr);
    if (hosts.length < 2) continue;
    const first = list[0] as CellRow;
    const confidence = 1 - 0.05 / hosts.length;
    for (const host of hosts) {
      const mine = measured(list.filter((r) => r.host === host));
      const theirs = measured(list.filter((r) => r.host !== host));
      const ratio = ratioInterval(theirs.map((value) => ({ value })), mine.map((value) => ({ value })), confidence);
      const answer = judge(ratio);
      const differs = answer.kind === "higher" || answer.kind === "lower";
      const pct = `${shown(confidence * 100, 1)} %`;
      const verdict = !isInterval(ratio)
        ? `n too small (n=${mine.length} vs ${theirs.length}; need 2 each)`
        : `${differs ? "differs" : "like the others"}: ×${ratio.ratio.toFixed(RATIO_DIGITS)} [${pct} ${ratio.low.toFixed(RATIO_DIGITS)}, ${ratio.high.toFixed(RATIO_DIGITS)}]`;
      out.push({
        variant: first.run.variant, os: first.run.os, mtu: first.cell.mtu, uso: first.uso, sender: first.sender,
        payloadBytes: first.cell.payloadBytes as number, bitrate: first.cell.bitrate, measure: first.measure as Measure, host,
        n: mine.length, mean: mine.length === 0 ? null : mean(mine),
        others: { hosts: hosts.filter((h) => h !== host), n: theirs.length, mean: theirs.length === 0 ? null : mean(theirs) },
        ratio, confidence, differs, verdict,
      });
    }
  }
  return out.sort((a, b) =>
    cmpStr(a.variant, b.variant) || cmpStr(fmtUso(a.uso), fmtUso(b.uso)) || SENDERS.indexOf(a.sender) - SENDERS.indexOf(b.sender) ||
    cmpPayload(a.payloadBytes, b.payloadBytes) || cmpStr(a.bitrate, b.bitrate) || cmpStr(a.host, b.host));
}
