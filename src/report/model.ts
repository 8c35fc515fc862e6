import type { Analysis } from "./compare";
import { hostComparisons, type HostComparison } from "./hosts";
import { DEFAULT_TARGET, type PrecisionTarget } from "./precision";
import { checkRule, type FailRule, type RuleOutcome } from "./thresholds";
import { verdictRows, type VerdictRow } from "./verdict";

/** Everything the three report files show, computed once. */
export interface ReportModel {
  readonly analysis: Analysis;
  readonly target: PrecisionTarget;
  readonly verdicts: readonly VerdictRow[];
  readonly hosts: readonly HostComparison[];
  readonly rules: ReadonlyArray<{ readonly rule: FailRule; readonly outcome: RuleOutcome }>;
}

export function reportModel(analysis: Analysis, rules: readonly FailRule[] = [], target: PrecisionTarget = DEFAULT_TARGET): ReportModel {
  const hosts = hostComparisons(analysis.rows);
  return {
    analysis,
    target,
    verdicts: verdictRows(analysis, target, hosts),
    hosts,
    rules: rules.map((rule) => ({ rule, outcome: checkRule(rule, analysis) })),
  };
}
