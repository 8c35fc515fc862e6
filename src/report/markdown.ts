import { FLAG_MEANING, METRICS, METRIC_LABEL, type Analysis, type CellFlag } from "./compare";
import { comparisonFlags, counted, fmtDf, fmtInterval, fmtMeanSd, fmtPercent, fmtSigned, fmtUso } from "./format";
import type { RuleCheck } from "./thresholds";

/**
 * Text from inputs goes into tables GitHub renders as Markdown with inline HTML: neutralise both,
 * and keep each value on its one row.
 */
export function mdEscape(text: string): string {
  return text
    .replace(/[\r\n]+/g, " ")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/[\\`*_[\]|~]/g, (c) => `\\${c}`);
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)];
}

export function renderMarkdown(analysis: Analysis, checks: readonly RuleCheck[]): string {
  const { runs, rows, groups, comparisons } = analysis;
  const out: string[] = ["# offload-lab report", ""];
  const excluded = rows.filter((r) => !r.counted).length;
  const flaggedCounted = rows.filter((r) => r.counted && r.flags.length > 0).length;
  const variants = new Set(groups.map((g) => g.variant));
  out.push(
    `${new Set(runs.map((r) => r.source)).size} files, ${variants.size} variants, ${rows.length} cells: ${excluded} flagged and excluded from every mean, ${flaggedCounted} flagged and counted.`,
    "",
  );
  out.push(...table(["input", "stack", "variant", "os", "cells"], runs.map((r) => [
    mdEscape(r.source), r.stack === null ? "–" : mdEscape(r.stack), mdEscape(r.variant), mdEscape(r.os), String(r.cells.length),
  ])), "");

  out.push("## Flagged cells", "");
  const flagged = rows.filter((r) => r.flags.length > 0);
  if (flagged.length === 0) {
    out.push("None.", "");
  } else {
    out.push(...table(["cell", "variant", "payload (B)", "counted", "flags", "error"], flagged.map((r) => [
      mdEscape(r.cell.id), mdEscape(r.run.variant), String(r.cell.payloadBytes), r.counted ? "yes" : "**no**",
      r.flags.join(", "), r.cell.error == null ? "–" : mdEscape(r.cell.error),
    ])), "");
    const present = [...new Set(flagged.flatMap((r) => r.flags))] as CellFlag[];
    out.push(...present.map((f) => `- \`${f}\`: ${FLAG_MEANING[f]}`), "");
  }

  out.push("## Results by variant and payload", "", "Mean ± sample standard deviation over counted cells.", "");
  out.push(...table(
    ["variant", "os", "MTU", "USO", "payload (B)", "bitrate", "counted", ...METRICS.map((m) => METRIC_LABEL[m]), "flags"],
    groups.map((g) => [
      mdEscape(g.variant), mdEscape(g.os), String(g.mtu), fmtUso(g.uso), String(g.payloadBytes), mdEscape(g.bitrate), counted(g),
      ...METRICS.map((m) => fmtMeanSd(g, m)), g.flags.length === 0 ? "–" : `**${g.flags.join(", ")}**`,
    ]),
  ), "");

  out.push(
    "## One-factor comparisons",
    "",
    "Pairs of variants that differ in exactly one factor (USO, MTU or OS) at the same payload and bitrate. " +
      "Difference = candidate − baseline; 95 % confidence interval by Welch's t (unequal variances).",
    "",
  );
  if (comparisons.length === 0) out.push("No pair of variants differs in exactly one factor.", "");
  for (const metric of METRICS) {
    const list = comparisons.filter((c) => c.metric === metric);
    if (list.length === 0) continue;
    out.push(`### ${METRIC_LABEL[metric]}`, "");
    out.push(...table(
      ["factor", "payload (B)", "baseline → candidate", "baseline", "candidate", "difference", "95 % CI", "df", "verdict", "flags"],
      list.map((c) => [
        c.factor, String(c.baseline.payloadBytes), `${mdEscape(c.baseline.variant)} → ${mdEscape(c.candidate.variant)}`,
        fmtMeanSd(c.baseline, metric), fmtMeanSd(c.candidate, metric),
        `${fmtSigned(metric, c.diff)} (${fmtPercent(c.diffPercent)})`, fmtInterval(c), fmtDf(c), c.verdict,
        comparisonFlags(c).length === 0 ? "–" : `**${comparisonFlags(c).join(", ")}**`,
      ]),
    ), "");
  }

  if (checks.length > 0) {
    out.push("## --fail-if", "");
    out.push(...checks.map((c) => `- ${c.breached ? "**FAIL**" : "ok"}: ${mdEscape(c.message)}`), "");
  }
  return out.join("\n");
}
