import * as fs from "node:fs";
import * as path from "node:path";
import { chartData, chartHeight } from "./chartData";
import { CHART_CLIENT } from "./chartClient";
import { FLAG_MEANING, METRICS, METRIC_LABEL, type CellFlag } from "./compare";
import {
  cellProblem, comparisonFlags, counted, fmtDf, fmtHost, fmtInterval, fmtMeanSd, fmtPayload, fmtPercent, fmtSigned, fmtUso, plural,
} from "./format";
import { MEASURE_LABEL, MEASURE_SHORT, MEASURES } from "./measures";
import type { ReportModel } from "./model";
import { ruleLines } from "./thresholds";
import { unpaired } from "./verdict";
import { VERDICT_HEADER, verdictCells, verdictIntro } from "./verdictTable";

export function htmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);
}

/** JSON safe inside a <script> element: no `</script>`, no `<!--`, no line separators JS once rejected. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

/** The UMD build sits beside the CommonJS entry that `require.resolve` finds. */
function chartJsSource(): string {
  const file = path.join(path.dirname(require.resolve("chart.js")), "chart.umd.js");
  return fs.readFileSync(file, "utf8").replace(/<\/script/gi, "<\\/script").replace(/<!--/g, "<\\!--");
}

function table(header: readonly string[], rows: readonly (readonly string[])[], rowClass?: (i: number) => string): string {
  const head = `<tr>${header.map((h) => `<th>${htmlEscape(h)}</th>`).join("")}</tr>`;
  const body = rows
    .map((r, i) => {
      const cls = rowClass?.(i) ?? "";
      return `<tr${cls ? ` class="${cls}"` : ""}>${r.map((c) => `<td>${htmlEscape(c)}</td>`).join("")}</tr>`;
    })
    .join("\n");
  return `<table>\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

const STYLE = `
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; background: #fff; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.85em; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.5em; text-align: left; }
th { background: #eee; }
tr.flagged td { background: #fff1c2; }
tr.excluded td { background: #ffd6d6; }
tr.not-judged td { background: #eeeeee; color: #555; }
tr.engaged-no td, tr.engaged-mixed td, tr.lossy td { background: #ffd6d6; }
#verdict th { background: #dde8f5; }
.chart { position: relative; width: 100%; max-width: 1100px; margin-bottom: 1.5em; }
.fail { color: #b00; font-weight: bold; }
`;

function chartBox(id: string, label: string, height: number): string {
  return `<div class="chart" style="height: ${height}px"><canvas id="chart-${id}" role="img" aria-label="${htmlEscape(label)}"></canvas></div>`;
}

/** A single file: styles, data, Chart.js and the drawing code inline, so it opens offline. */
export function renderHtml(model: ReportModel): string {
  const { analysis, verdicts } = model;
  const { rows, groups, comparisons } = analysis;
  const flagged = rows.filter((r) => r.flags.length > 0);
  const present = [...new Set(flagged.flatMap((r) => r.flags))] as CellFlag[];
  const charts = chartData(model);
  const parts: string[] = [];
  parts.push(`<h1>offload-lab report</h1>`);
  parts.push(`<p>${plural(new Set(analysis.runs.map((r) => r.source)).size, "file")}, ${plural(rows.length, "cell")}, ${rows.filter((r) => !r.counted).length} excluded from every mean.</p>`);
  parts.push(`<h2>USO on vs off</h2>`);
  for (const p of verdictIntro(model.target.relative)) parts.push(`<p>${htmlEscape(p)}</p>`);
  if (verdicts.length === 0) parts.push(`<p id="verdict">No USO off/on pair in these inputs (same OS, MTU, payload, sender and bitrate).</p>`);
  else {
    const rowClass = (i: number) => {
      const v = verdicts[i];
      if (v === undefined) return "";
      if (v.kind !== "uso") return "not-judged";
      return v.lossy ? "lossy" : `engaged-${v.engaged.verdict}`;
    };
    parts.push(table([...VERDICT_HEADER], verdicts.map(verdictCells), rowClass).replace("<table>", `<table id="verdict">`));
  }
  const alone = unpaired(analysis, verdicts);
  if (alone.length > 0) parts.push(`<p>${plural(alone.length, "group has", "groups have")} no partner in the other USO arm and appear only in the tables below.</p>`);
  for (const m of MEASURES) {
    const chart = charts.verdict.find((v) => v.id === `verdict-${m}`);
    if (chart !== undefined) parts.push(chartBox(chart.id, chart.title, Math.max(200, 130 + chart.labels.length * 28)));
    else parts.push(`<p>No verdict row measures ${htmlEscape(MEASURE_LABEL[m])}.</p>`);
  }

  if (model.hosts.length > 0) {
    parts.push(`<h2>Hosts</h2><p>The same variant on several hosts: each host against the others (ratio host/others, Welch on the logs, interval at 1 − 0.05/k for k hosts).</p>`);
    parts.push(table(
      ["variant", "USO", "sender", "payload (B)", "bitrate", "measure", "host", "n", "mean", "others (n)", "verdict"],
      model.hosts.map((h) => [
        h.variant, fmtUso(h.uso), h.sender, String(h.payloadBytes), h.bitrate, MEASURE_SHORT[h.measure], h.host, String(h.n),
        h.mean === null ? "–" : h.mean.toFixed(2), `${h.others.mean === null ? "–" : h.others.mean.toFixed(2)} (${h.others.n})`, h.verdict,
      ]),
      (i) => (model.hosts[i]?.differs ? "flagged" : ""),
    ));
  }

  parts.push(`<h2>Charts</h2><p>Mean of counted cells per variant, whiskers the 95 % interval of the mean (none below n = 2); striped bars marked "!" are flagged groups.</p>`);
  const height = chartHeight(charts.labels.length, charts.series.length);
  for (const m of METRICS) parts.push(chartBox(m, METRIC_LABEL[m], height));

  parts.push(`<h2>Inputs</h2>`);
  const hosts = analysis.runs.some((r) => r.host !== null);
  const hostCol = <T,>(cells: T[]): T[] => (hosts ? cells : []);
  parts.push(table(["input", "stack", "variant", "os", "USO", ...hostCol(["host"]), "cells"], analysis.runs.map((r) => [
    r.source, r.stack ?? "–", r.variant, r.os, fmtUso(r.uso), ...hostCol([fmtHost(r.host)]), String(r.cells.length),
  ])));
  if (analysis.notes.length > 0) parts.push(`<ul>${analysis.notes.map((n) => `<li>counted once: ${htmlEscape(n)}</li>`).join("")}</ul>`);

  parts.push(`<h2>Flagged cells</h2>`);
  if (flagged.length === 0) parts.push(`<p>None.</p>`);
  else {
    parts.push(table(["cell", "variant", "payload (B)", "counted", "flags", "error"], flagged.map((r) => [
      r.cell.id, r.run.variant, fmtPayload(r.cell.payloadBytes), r.counted ? "yes" : "no", r.flags.join(", "), cellProblem(r.cell.error, r.implausible) ?? "–",
    ]), (i) => (flagged[i]?.counted ? "flagged" : "excluded")));
    parts.push(`<ul>${present.map((f) => `<li><code>${f}</code>: ${htmlEscape(FLAG_MEANING[f])}</li>`).join("")}</ul>`);
  }

  parts.push(`<h2>Results by variant and payload</h2>`);
  parts.push(table(
    ["variant", "os", "MTU", "USO", ...hostCol(["host"]), "sender", "payload (B)", "bitrate", "counted", ...METRICS.map((m) => METRIC_LABEL[m]), "flags"],
    groups.map((g) => [
      g.variant, g.os, String(g.mtu), fmtUso(g.uso), ...hostCol([fmtHost(g.host)]), g.sender, fmtPayload(g.payloadBytes), g.bitrate, counted(g),
      ...METRICS.map((m) => fmtMeanSd(g, m)), g.flags.join(", ") || "–",
    ]),
    (i) => ((groups[i]?.flags.length ?? 0) > 0 ? "flagged" : ""),
  ));

  parts.push(`<h2>One-factor comparisons</h2><p>Difference = candidate − baseline, 95 % Welch confidence interval.</p>`);
  for (const m of METRICS) {
    const list = comparisons.filter((c) => c.metric === m);
    if (list.length === 0) continue;
    parts.push(`<h3>${htmlEscape(METRIC_LABEL[m])}</h3>`);
    parts.push(table(
      ["factor", "payload (B)", "sender", "bitrate", "baseline → candidate", "baseline", "candidate", "difference", "95 % CI", "df", "verdict", "flags"],
      list.map((c) => [
        c.factor, fmtPayload(c.baseline.payloadBytes), c.baseline.sender, c.baseline.bitrate, `${c.baseline.variant} → ${c.candidate.variant}`, fmtMeanSd(c.baseline, m),
        fmtMeanSd(c.candidate, m), `${fmtSigned(m, c.diff)} (${fmtPercent(c.diffPercent)})`, fmtInterval(c), fmtDf(c), c.verdict,
        comparisonFlags(c).join(", ") || "–",
      ]),
      (i) => {
        const c = list[i];
        return c !== undefined && comparisonFlags(c).length > 0 ? "flagged" : "";
      },
    ));
  }
  if (model.rules.length > 0) {
    const items = model.rules.flatMap(({ rule, outcome }) => [
      ...outcome.checks.map((c) => `<li${c.breached ? ` class="fail"` : ""}>${htmlEscape(c.message)}</li>`),
      ...ruleLines(rule, outcome).slice(outcome.checks.length).map((l) => `<li${outcome.checks.length === 0 ? ` class="fail"` : ""}>${htmlEscape(l)}</li>`),
    ]);
    parts.push(`<h2>--fail-if</h2><ul>${items.join("")}</ul>`);
  }
  return [
    "<!DOCTYPE html>",
    `<html lang="en"><head><meta charset="utf-8"><title>offload-lab report</title><style>${STYLE}</style></head><body>`,
    parts.join("\n"),
    `<script type="application/json" id="report-data">${scriptJson(charts)}</script>`,
    `<script>${chartJsSource()}</script>`,
    `<script>${CHART_CLIENT}</script>`,
    "</body></html>",
    "",
  ].join("\n");
}
