import { FACTORS, METRICS, type Analysis, type Factor, type Group, type Metric } from "./compare";

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
  const [, metric, direction, sel, limit, pct] = m;
  if (!(METRICS as readonly string[]).includes(metric)) {
    throw new FailRuleError(`--fail-if "${text}": unknown metric "${metric}" (one of ${METRICS.join(", ")})`);
  }
  let selector: FailRule["selector"];
  if ((FACTORS as readonly string[]).includes(sel)) {
    selector = { factor: sel as Factor };
  } else {
    const parts = sel.split("..");
    if (parts.length !== 2 || parts[0] === "" || parts[1] === "") {
      throw new FailRuleError(`--fail-if "${text}": selector "${sel}" is neither a factor (${FACTORS.join(", ")}) nor BASELINE..CANDIDATE`);
    }
    selector = { baseline: parts[0], candidate: parts[1] };
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
      if (a.payloadBytes === b.payloadBytes && a.bitrate === b.bitrate) pairs.push([a, b]);
    }
  }
  return pairs;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

/**
 * Checks one rule on every pair it selects. A pair with no counted cells on a side breaches the
 * rule: a CI gate must not pass because the measurement is missing.
 */
export function checkRule(rule: FailRule, analysis: Analysis): RuleCheck[] {
  return pairsFor(rule, analysis).map(([baseline, candidate]) => {
    const a = baseline.stats[rule.metric];
    const b = candidate.stats[rule.metric];
    const where = `${baseline.variant} → ${candidate.variant} @ ${baseline.payloadBytes} B ${baseline.bitrate}`;
    if (a.n === 0 || b.n === 0) {
      return { rule, baseline, candidate, change: null, breached: true, message: `${rule.text}: ${where}: cannot evaluate, no counted cells on one side (n=${a.n} vs ${b.n})` };
    }
    const delta = rule.direction === "drop" ? a.mean - b.mean : b.mean - a.mean;
    if (rule.relative && a.mean === 0) {
      return { rule, baseline, candidate, change: null, breached: true, message: `${rule.text}: ${where}: cannot evaluate a relative change from a baseline mean of 0` };
    }
    const change = rule.relative ? (delta / Math.abs(a.mean)) * 100 : delta;
    const unit = rule.relative ? "%" : "";
    const breached = change > rule.limit;
    return {
      rule, baseline, candidate, change, breached,
      message: `${rule.text}: ${where}: ${rule.direction} ${fmt(change)}${unit} ${breached ? ">" : "≤"} ${fmt(rule.limit)}${unit}${breached ? " FAIL" : " ok"}`,
    };
  });
}
