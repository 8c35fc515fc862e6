import { FLAG_MEANING, METRICS, METRIC_LABEL, type Analysis, type CellFlag } from "./compare";
import {
  comparisonFlags, counted, fmtDf, fmtInterval, fmtMeanSd, fmtPayload, fmtPercent, fmtSigned, fmtUso, VERDICT_HEADER, verdictCells,
} from "./format";
import type { RuleCheck } from "./thresholds";
import { unpaired, verdictRows } from "./verdict";

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

/**
 * What the report is opened for, first: USO on vs off for every OS × MTU × payload × sender ×
 * bitrate that has both arms, with Welch intervals and whether USO engaged at all.
 */
function verdictSection(analysis: Analysis): string[] {
  const rows = verdictRows(analysis);
  const out = [
    "## USO on vs off",
    "",
    "Difference = USO on − USO off over counted cells, with its 95 % confidence interval by Welch's t; " +
      "significant when the interval excludes 0. \"USO engaged\" is the evidence of the USO-on cells.",
    "",
  ];
  if (rows.length === 0) out.push("No USO off/on pair in these inputs (same OS, MTU, payload, sender and bitrate).", "");
  else out.push(...table([...VERDICT_HEADER], rows.map((r) => verdictCells(r).map((c, i) => (i === VERDICT_HEADER.length - 1 && c !== "–" ? `**${mdEscape(c)}**` : mdEscape(c))))), "");
  const alone = unpaired(analysis, rows);
  if (alone.length > 0) out.push(`${alone.length} group${alone.length === 1 ? " has" : "s have"} no partner in the other USO arm and appear only below.`, "");
  return out;
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
  out.push(...verdictSection(analysis));
  out.push("## Inputs", "");
  out.push(...table(["input", "stack", "variant", "os", "cells"], runs.map((r) => [
    mdEscape(r.source), r.stack === null ? "–" : mdEscape(r.stack), mdEscape(r.variant), mdEscape(r.os), String(r.cells.length),
  ])), "");

  out.push("## Flagged cells", "");
  const flagged = rows.filter((r) => r.flags.length > 0);
  if (flagged.length === 0) {
    out.push("None.", "");
  } else {
    out.push(...table(["cell", "variant", "payload (B)", "counted", "flags", "error"], flagged.map((r) => [
      mdEscape(r.cell.id), mdEscape(r.run.variant), fmtPayload(r.cell.payloadBytes), r.counted ? "yes" : "**no**",
      r.flags.join(", "), r.cell.error == null ? "–" : mdEscape(r.cell.error),
    ])), "");
    const present = [...new Set(flagged.flatMap((r) => r.flags))] as CellFlag[];
    out.push(...present.map((f) => `- \`${f}\`: ${FLAG_MEANING[f]}`), "");
  }

  out.push("## Results by variant and payload", "", "Mean ± sample standard deviation over counted cells.", "");
  out.push(...table(
    ["variant", "os", "MTU", "USO", "sender", "payload (B)", "bitrate", "counted", ...METRICS.map((m) => METRIC_LABEL[m]), "flags"],
    groups.map((g) => [
      mdEscape(g.variant), mdEscape(g.os), String(g.mtu), fmtUso(g.uso), g.sender, fmtPayload(g.payloadBytes), mdEscape(g.bitrate), counted(g),
      ...METRICS.map((m) => fmtMeanSd(g, m)), g.flags.length === 0 ? "–" : `**${g.flags.join(", ")}**`,
    ]),
  ), "");

  out.push(
    "## One-factor comparisons",
    "",
    "Pairs of variants that differ in exactly one factor (USO, MTU or OS) at the same payload, sender and bitrate. " +
      "Difference = candidate − baseline; 95 % confidence interval by Welch's t (unequal variances).",
    "",
  );
  if (comparisons.length === 0) out.push("No pair of variants differs in exactly one factor.", "");
  for (const metric of METRICS) {
    const list = comparisons.filter((c) => c.metric === metric);
    if (list.length === 0) continue;
    out.push(`### ${METRIC_LABEL[metric]}`, "");
    out.push(...table(
      ["factor", "payload (B)", "sender", "bitrate", "baseline → candidate", "baseline", "candidate", "difference", "95 % CI", "df", "verdict", "flags"],
      list.map((c) => [
        c.factor, fmtPayload(c.baseline.payloadBytes), c.baseline.sender, mdEscape(c.baseline.bitrate), `${mdEscape(c.baseline.variant)} → ${mdEscape(c.candidate.variant)}`,
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
