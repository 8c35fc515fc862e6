import { FLAG_MEANING, METRICS, METRIC_LABEL, type CellFlag } from "./compare";
import {
  cellProblem, comparisonFlags, counted, fmtDf, fmtHost, fmtInterval, fmtMeanSd, fmtPayload, fmtPercent, fmtSigned, fmtUso, plural,
} from "./format";
import { MEASURE_SHORT } from "./measures";
import type { ReportModel } from "./model";
import { ruleLines } from "./thresholds";
import { unpaired } from "./verdict";
import { VERDICT_HEADER, verdictCells, verdictIntro } from "./verdictTable";

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
 * measure that has both arms, with the ratio, its precision and the verdict, loss, and whether
 * USO engaged at all.
 */
function verdictSection(model: ReportModel): string[] {
  const { verdicts: rows, analysis } = model;
  const out = ["## USO on vs off", "", ...verdictIntro(model.target.relative).flatMap((p) => [p, ""])];
  if (rows.length === 0) out.push("No USO off/on pair in these inputs (same OS, MTU, payload, sender and bitrate).", "");
  else {
    const last = VERDICT_HEADER.length - 1;
    out.push(...table([...VERDICT_HEADER], rows.map((r) => verdictCells(r).map((c, i) => (i === last && c !== "–" ? `**${mdEscape(c)}**` : mdEscape(c))))), "");
  }
  const alone = unpaired(analysis, rows);
  if (alone.length > 0) out.push(`${plural(alone.length, "group has", "groups have")} no partner in the other USO arm and appear only below.`, "");
  return out;
}

function hostSection(model: ReportModel): string[] {
  if (model.hosts.length === 0) return [];
  const out = [
    "## Hosts",
    "",
    "The same variant on several hosts: each host's values against the other hosts' (ratio host/others on the log scale, " +
      "Welch; the interval at 1 − 0.05/k for k hosts, so that a sound host is flagged at most 5 % of the time). " +
      "A host that differs is named in the verdict rows it ran.",
    "",
  ];
  out.push(...table(
    ["variant", "USO", "sender", "payload (B)", "bitrate", "measure", "host", "n", "mean", "others (n)", "verdict"],
    model.hosts.map((h) => [
      mdEscape(h.variant), fmtUso(h.uso), h.sender, String(h.payloadBytes), mdEscape(h.bitrate), MEASURE_SHORT[h.measure], mdEscape(h.host),
      String(h.n), h.mean === null ? "–" : h.mean.toFixed(2), `${h.others.mean === null ? "–" : h.others.mean.toFixed(2)} (${h.others.n})`,
      h.differs ? `**${h.verdict}**` : h.verdict,
    ]),
  ), "");
  return out;
}

export function renderMarkdown(model: ReportModel): string {
  const { analysis } = model;
  const { runs, rows, groups, comparisons } = analysis;
  const out: string[] = ["# offload-lab report", ""];
  const excluded = rows.filter((r) => !r.counted).length;
  const flaggedCounted = rows.filter((r) => r.counted && r.flags.length > 0).length;
  const variants = new Set(groups.map((g) => g.variant));
  out.push(
    `${plural(new Set(runs.map((r) => r.source)).size, "file")}, ${plural(variants.size, "variant")}, ${plural(rows.length, "cell")}: ` +
      `${excluded} flagged and excluded from every mean, ${flaggedCounted} flagged and counted.`,
    "",
  );
  out.push(...verdictSection(model));
  out.push(...hostSection(model));
  out.push("## Inputs", "");
  // The host columns appear once any input names its host: most inputs ran on one machine.
  const hosts = runs.some((r) => r.host !== null);
  const hostCol = <T,>(cells: T[]): T[] => (hosts ? cells : []);
  out.push(...table(["input", "stack", "variant", "os", "USO", ...hostCol(["host"]), "cells"], runs.map((r) => [
    mdEscape(r.source), r.stack === null ? "–" : mdEscape(r.stack), mdEscape(r.variant), mdEscape(r.os), fmtUso(r.uso), ...hostCol([mdEscape(fmtHost(r.host))]),
    String(r.cells.length),
  ])), "");
  const pooled = [...variants].map((v) => [v, [...new Set(runs.filter((r) => r.variant === v).map((r) => r.source))]] as const).filter(([, s]) => s.length > 1);
  for (const [v, sources] of pooled) out.push(`- variant ${mdEscape(v)} pools ${sources.length} files: ${sources.map(mdEscape).join(", ")}`);
  for (const note of analysis.notes) out.push(`- counted once: ${mdEscape(note)}`);
  if (pooled.length > 0 || analysis.notes.length > 0) out.push("");

  out.push("## Flagged cells", "");
  const flagged = rows.filter((r) => r.flags.length > 0);
  if (flagged.length === 0) {
    out.push("None.", "");
  } else {
    out.push(...table(["cell", "variant", "payload (B)", "counted", "flags", "error"], flagged.map((r) => {
      const problem = cellProblem(r.cell.error, r.implausible);
      return [mdEscape(r.cell.id), mdEscape(r.run.variant), fmtPayload(r.cell.payloadBytes), r.counted ? "yes" : "**no**", r.flags.join(", "), problem === null ? "–" : mdEscape(problem)];
    })), "");
    const present = [...new Set(flagged.flatMap((r) => r.flags))] as CellFlag[];
    out.push(...present.map((f) => `- \`${f}\`: ${FLAG_MEANING[f]}`), "");
  }

  out.push("## Results by variant and payload", "", "Mean ± sample standard deviation over counted cells.", "");
  out.push(...table(
    ["variant", "os", "MTU", "USO", ...hostCol(["host"]), "sender", "payload (B)", "bitrate", "counted", ...METRICS.map((m) => METRIC_LABEL[m]), "flags"],
    groups.map((g) => [
      mdEscape(g.variant), mdEscape(g.os), String(g.mtu), fmtUso(g.uso), ...hostCol([mdEscape(fmtHost(g.host))]), g.sender, fmtPayload(g.payloadBytes), mdEscape(g.bitrate), counted(g),
      ...METRICS.map((m) => fmtMeanSd(g, m)), g.flags.length === 0 ? "–" : `**${g.flags.join(", ")}**`,
    ]),
  ), "");

  out.push(
    "## One-factor comparisons",
    "",
    "Pairs of variants that differ in exactly one factor (USO, MTU or OS) at the same payload, sender, bitrate and host. " +
      "Difference = candidate − baseline; 95 % confidence interval by Welch's t (unequal variances); a difference is shown as " +
      "significant only when its interval, as printed, excludes 0. A USO pair with a plain sender or a fragmented payload is not judged.",
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

  if (model.rules.length > 0) {
    out.push("## --fail-if", "");
    for (const { rule, outcome } of model.rules) {
      out.push(...outcome.checks.map((c) => `- ${c.breached ? "**FAIL**" : "ok"}: ${mdEscape(c.message)}`));
      out.push(...ruleLines(rule, outcome).slice(outcome.checks.length).map((l) => `- ${outcome.checks.length === 0 ? "**NOTHING JUDGED**" : "skipped"}: ${mdEscape(l)}`));
    }
    out.push("");
  }
  return out.join("\n");
}
