import type { ReportModel } from "./model";
import { nextRound, type Budget, type RowDecision, type StopPolicy } from "./stopping";
import { stopRows, type VerdictRow } from "./verdict";
import { fmtMeasure } from "./verdictTable";

/**
 * The stopping rule's answer in the sweep's terms: for each verdict row, its decision and the
 * stacks whose cells make up each arm (a stack output's `stack`, else its variant), so the sweep
 * knows which stacks to run again and how many more samples each arm needs.
 */
export interface SamplingRequest {
  readonly decision: RowDecision;
  /** `linux MTU 1500 · 1472 B · gso · CPU per Gbit/s (% per Gbit/s), -b 100M · host h1`. */
  readonly label: string;
  readonly offStacks: readonly string[];
  readonly onStacks: readonly string[];
}

export function describeRow(r: VerdictRow): string {
  return `${r.os} MTU ${r.mtu} · ${r.payloadBytes} B · ${r.sender} · ${fmtMeasure(r)} · host ${r.kind === "cross-host" ? "different hosts" : r.host ?? "unknown"}`;
}

export function samplingPlan(model: ReportModel, policy: StopPolicy, budget: Budget): { readonly finished: boolean; readonly secondsNeeded: number; readonly requests: SamplingRequest[] } {
  const plan = nextRound(stopRows(model.verdicts), policy, budget);
  const byKey = new Map(model.verdicts.map((r) => [r.key, r]));
  const stacks = (rows: VerdictRow["off"]) => [...new Set(rows.map((c) => c.run.stack ?? c.run.variant))].sort();
  const requests = plan.rows.map((decision): SamplingRequest => {
    const row = byKey.get(decision.key) as VerdictRow;
    return { decision, label: describeRow(row), offStacks: stacks(row.off), onStacks: stacks(row.on) };
  });
  return { finished: plan.finished, secondsNeeded: plan.secondsNeeded, requests };
}
