import { FACTORS, METRICS, usoCannotShow, type Analysis, type Factor, type Group, type Metric } from "./compare";
import { fixed } from "./format";

/**
 * A `--fail-if` rule: `<metric>-<drop|rise>:<selector>><limit>[%]`.
 * - metric: throughput | cpu | loss | jitter | efficiency
 * - selector: a factor (`uso`, `mtu`, `os`: every one-factor pair, from USO off / the smaller MTU /
 *   the alphabetically first OS to the other), or `BASELINE..CANDIDATE` (two variant names)
 * - limit: with `%`, relative to the baseline mean; without, in the metric's unit
 * e.g. `throughput-drop:uso>5%`, `cpu-rise:mtu1500-uso-off..mtu1500-uso-on>2`.
 */
export interface FailRule {
  readonly text: string;
  readonly metric: Metric;
  readonly direction: "drop" | "rise";
  readonly selector: { readonly factor: Factor } | { readonly baseline: string; readonly candidate: string };
  readonly limit: number;
  readonly relative: boolean;
}

export class FailRuleError extends Error {}

export function parseFailRule(text: string): FailRule {
  const m = /^([a-z]+)-(drop|rise):(.+)>(\d+(?:\.\d+)?)(%?)$/.exec(text.trim());
  const usage = `expected <metric>-<drop|rise>:<factor|BASELINE..CANDIDATE>><limit>[%], e.g. throughput-drop:uso>5%`;
  if (!m) throw new FailRuleError(`--fail-if "${text}": ${usage}`);
  const [, metric = "", direction, sel = "", limit, pct] = m;
  if (!(METRICS as readonly string[]).includes(metric)) {
    throw new FailRuleError(`--fail-if "${text}": unknown metric "${metric}" (one of ${METRICS.join(", ")})`);
  }
  let selector: FailRule["selector"];
  const parts = sel.split("..");
  if ((FACTORS as readonly string[]).includes(sel)) {
    selector = { factor: sel as Factor };
  } else if (parts.length === 2 && parts[0] && parts[1]) {
    selector = { baseline: parts[0], candidate: parts[1] };
  } else {
    throw new FailRuleError(`--fail-if "${text}": selector "${sel}" is neither a factor (${FACTORS.join(", ")}) nor BASELINE..CANDIDATE`);
  }
  return { text, metric: metric as Metric, direction: direction as "drop" | "rise", selector, limit: Number(limit), relative: pct === "%" };
}

export interface RuleCheck {
  readonly rule: FailRule;
  readonly baseline: Group;
  readonly candidate: Group;
  /** The drop or rise measured, in the rule's unit; null when a side has no counted value. */
  readonly change: number | null;
  readonly breached: boolean;
  readonly message: string;
}

function pairsFor(rule: FailRule, analysis: Analysis): Array<[Group, Group]> {
  const sel = rule.selector;
  if ("factor" in sel) {
    return analysis.comparisons
      .filter((c) => c.metric === rule.metric && c.factor === sel.factor)
      .map((c): [Group, Group] => [c.baseline, c.candidate]);
  }
  const pairs: Array<[Group, Group]> = [];
  for (const a of analysis.groups.filter((g) => g.variant === sel.baseline)) {
    for (const b of analysis.groups.filter((g) => g.variant === sel.candidate)) {
      // The same experiment on both sides: payload, bitrate, sender and host.
      if (a.payloadBytes === b.payloadBytes && a.bitrate === b.bitrate && a.sender === b.sender && a.host === b.host) pairs.push([a, b]);
    }
  }
  return pairs;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : fixed(n, 2);
}

/** A pair a rule selected but does not judge, and why. */
export interface SkippedPair {
  readonly baseline: Group;
  readonly candidate: Group;
  readonly why: "not exercised" | "fragmented";
}

export interface RuleOutcome {
  readonly checks: RuleCheck[];
  readonly skipped: SkippedPair[];
}

export function where(baseline: Group, candidate: Group): string {
  return `${baseline.variant} → ${candidate.variant} @ ${baseline.payloadBytes} B ${baseline.sender} ${baseline.bitrate}`;
}

/**
 * Checks one rule on every pair it selects that can show the effect. A pair whose two sides
 * differ in USO but whose sender is plain (not exercised) or whose payload is IP-fragmented
 * shows nothing about USO: it is skipped and named, never judged. A pair with no counted cells
 * on a side breaches the rule: a CI gate must not pass because the measurement is missing.
 */
export function checkRule(rule: FailRule, analysis: Analysis): RuleOutcome {
  const checks: RuleCheck[] = [];
  const skipped: SkippedPair[] = [];
  for (const [baseline, candidate] of pairsFor(rule, analysis)) {
    const cannot = baseline.uso !== candidate.uso ? usoCannotShow(baseline) ?? usoCannotShow(candidate) : null;
    if (cannot !== null) {
      skipped.push({ baseline, candidate, why: cannot });
      continue;
    }
    checks.push(checkPair(rule, baseline, candidate));
  }
  return { checks, skipped };
}

function checkPair(rule: FailRule, baseline: Group, candidate: Group): RuleCheck {
  const a = baseline.stats[rule.metric];
  const b = candidate.stats[rule.metric];
  const at = where(baseline, candidate);
  if (a.n === 0 || b.n === 0) {
    return { rule, baseline, candidate, change: null, breached: true, message: `${rule.text}: ${at}: cannot evaluate, no counted cells on one side (n=${a.n} vs ${b.n})` };
  }
  const delta = rule.direction === "drop" ? a.mean - b.mean : b.mean - a.mean;
  if (rule.relative && a.mean === 0) {
    return { rule, baseline, candidate, change: null, breached: true, message: `${rule.text}: ${at}: cannot evaluate a relative change from a baseline mean of 0` };
  }
  const change = rule.relative ? (delta / Math.abs(a.mean)) * 100 : delta;
  const unit = rule.relative ? "%" : "";
  const breached = change > rule.limit;
  return {
    rule, baseline, candidate, change, breached,
    message: `${rule.text}: ${at}: ${rule.direction} ${fmt(change)}${unit} ${breached ? ">" : "≤"} ${fmt(rule.limit)}${unit}${breached ? " FAIL" : " ok"}`,
  };
}

/** A rule's lines: each pair judged, then what was skipped and why. */
export function ruleLines(rule: FailRule, outcome: RuleOutcome): string[] {
  const lines = outcome.checks.map((c) => c.message);
  if (outcome.skipped.length > 0) {
    const what = outcome.skipped.map((s) => `${where(s.baseline, s.candidate)} (${s.why})`).join("; ");
    lines.push(`${rule.text}: skipped ${outcome.skipped.length} ${outcome.skipped.length === 1 ? "pair" : "pairs"} that cannot show USO: ${what}`);
  }
  if (outcome.checks.length === 0) {
    lines.push(outcome.skipped.length === 0
      ? `${rule.text}: selects no pair of variants in these inputs`
      : `${rule.text}: matches no pair that can show the effect: nothing judged`);
  }
  return lines;
}

/** 2: a rule judged nothing (a gate that checks nothing must not pass); 1: a rule breached; else 0. */
export function rulesExitCode(outcomes: readonly RuleOutcome[]): number {
  if (outcomes.some((o) => o.checks.length === 0)) return 2;
  return outcomes.some((o) => o.checks.some((c) => c.breached)) ? 1 : 0;
}
