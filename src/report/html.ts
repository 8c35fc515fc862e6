import * as fs from "node:fs";
import * as path from "node:path";
import { FLAG_MEANING, METRICS, METRIC_LABEL, type Analysis, type CellFlag, type Group } from "./compare";
import { comparisonFlags, counted, fmtDf, fmtInterval, fmtMeanSd, fmtPercent, fmtSigned, fmtUso } from "./format";
import type { RuleCheck } from "./thresholds";

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

function seriesLabel(g: Group): string {
  return `${g.variant} (${g.os}, MTU ${g.mtu}, USO ${fmtUso(g.uso)})`;
}

/** What the page's script draws: one series per variant, one point per payload and bitrate. */
function chartData(analysis: Analysis) {
  const xs = [...new Map(analysis.groups.map((g) => [`${g.payloadBytes}|${g.bitrate}`, g])).values()]
    .sort((a, b) => a.payloadBytes - b.payloadBytes || (a.bitrate < b.bitrate ? -1 : a.bitrate > b.bitrate ? 1 : 0))
    .map((g) => ({ payloadBytes: g.payloadBytes, bitrate: g.bitrate }));
  const variants = new Map<string, Group[]>();
  for (const g of analysis.groups) {
    const key = seriesLabel(g);
    variants.set(key, [...(variants.get(key) ?? []), g]);
  }
  return {
    labels: xs.map((x) => `${x.payloadBytes} B @ ${x.bitrate}`),
    metrics: METRICS.map((m) => ({ id: m, label: METRIC_LABEL[m] })),
    series: [...variants.entries()].map(([label, groups]) => {
      const at = xs.map((x) => groups.find((g) => g.payloadBytes === x.payloadBytes && g.bitrate === x.bitrate) ?? null);
      return {
        label,
        flags: at.map((g) => (g === null ? [] : g.flags)),
        counted: at.map((g) => (g === null ? null : counted(g))),
        values: Object.fromEntries(METRICS.map((m) => [m, at.map((g) => (g === null || g.stats[m].n === 0 ? null : g.stats[m].mean))])),
      };
    }),
  };
}

// Runs in the browser: draws one chart per metric; flagged points are crosses, never plain dots.
const CLIENT = `
(function () {
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];
  var drawn = 0;
  data.metrics.forEach(function (metric) {
    var canvas = document.getElementById("chart-" + metric.id);
    new Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: data.series.map(function (s, i) {
          var color = palette[i % palette.length];
          return {
            label: s.label,
            data: s.values[metric.id],
            borderColor: color,
            backgroundColor: color,
            spanGaps: false,
            pointRadius: s.flags.map(function (f) { return f.length ? 9 : 4; }),
            pointStyle: s.flags.map(function (f) { return f.length ? "crossRot" : "circle"; }),
            pointBorderWidth: s.flags.map(function (f) { return f.length ? 3 : 1; })
          };
        })
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: {
          title: { display: true, text: metric.label },
          tooltip: {
            callbacks: {
              afterLabel: function (ctx) {
                var s = data.series[ctx.datasetIndex];
                var f = s.flags[ctx.dataIndex];
                return "counted " + s.counted[ctx.dataIndex] + (f.length ? " | FLAGGED: " + f.join(", ") : "");
              }
            }
          }
        },
        scales: { x: { title: { display: true, text: "payload @ bitrate" } }, y: { beginAtZero: true } }
      }
    });
    drawn++;
  });
  // Lets a headless check tell "every chart was drawn" from "the page loaded".
  document.body.setAttribute("data-charts-drawn", String(drawn));
})();
`;

function table(header: readonly string[], rows: readonly (readonly string[])[], rowClass?: (i: number) => string): string {
  const head = `<tr>${header.map((h) => `<th>${htmlEscape(h)}</th>`).join("")}</tr>`;
  const body = rows
    .map((r, i) => `<tr${rowClass && rowClass(i) ? ` class="${rowClass(i)}"` : ""}>${r.map((c) => `<td>${htmlEscape(c)}</td>`).join("")}</tr>`)
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
.chart { position: relative; height: 320px; width: 100%; max-width: 1100px; margin-bottom: 1.5em; }
.fail { color: #b00; font-weight: bold; }
`;

/** A single file: styles, data, Chart.js and the drawing code inline, so it opens offline. */
export function renderHtml(analysis: Analysis, checks: readonly RuleCheck[]): string {
  const { rows, groups, comparisons } = analysis;
  const flagged = rows.filter((r) => r.flags.length > 0);
  const present = [...new Set(flagged.flatMap((r) => r.flags))] as CellFlag[];
  const parts: string[] = [];
  parts.push(`<h1>offload-lab report</h1>`);
  parts.push(`<p>${new Set(analysis.runs.map((r) => r.source)).size} files, ${rows.length} cells, ${rows.filter((r) => !r.counted).length} excluded from every mean. Crosses in the charts mark flagged groups.</p>`);
  parts.push(`<h2>Charts</h2>`);
  for (const m of METRICS) parts.push(`<div class="chart"><canvas id="chart-${m}" role="img" aria-label="${htmlEscape(METRIC_LABEL[m])}"></canvas></div>`);

  parts.push(`<h2>Flagged cells</h2>`);
  if (flagged.length === 0) parts.push(`<p>None.</p>`);
  else {
    parts.push(table(["cell", "variant", "payload (B)", "counted", "flags", "error"], flagged.map((r) => [
      r.cell.id, r.run.variant, String(r.cell.payloadBytes), r.counted ? "yes" : "no", r.flags.join(", "), r.cell.error ?? "–",
    ]), (i) => (flagged[i].counted ? "flagged" : "excluded")));
    parts.push(`<ul>${present.map((f) => `<li><code>${f}</code>: ${htmlEscape(FLAG_MEANING[f])}</li>`).join("")}</ul>`);
  }

  parts.push(`<h2>Results by variant and payload</h2>`);
  parts.push(table(
    ["variant", "os", "MTU", "USO", "payload (B)", "bitrate", "counted", ...METRICS.map((m) => METRIC_LABEL[m]), "flags"],
    groups.map((g) => [
      g.variant, g.os, String(g.mtu), fmtUso(g.uso), String(g.payloadBytes), g.bitrate, counted(g),
      ...METRICS.map((m) => fmtMeanSd(g, m)), g.flags.join(", ") || "–",
    ]),
    (i) => (groups[i].flags.length > 0 ? "flagged" : ""),
  ));

  parts.push(`<h2>One-factor comparisons</h2><p>Difference = candidate − baseline, 95 % Welch confidence interval.</p>`);
  for (const m of METRICS) {
    const list = comparisons.filter((c) => c.metric === m);
    if (list.length === 0) continue;
    parts.push(`<h3>${htmlEscape(METRIC_LABEL[m])}</h3>`);
    parts.push(table(
      ["factor", "payload (B)", "baseline → candidate", "baseline", "candidate", "difference", "95 % CI", "df", "verdict", "flags"],
      list.map((c) => [
        c.factor, String(c.baseline.payloadBytes), `${c.baseline.variant} → ${c.candidate.variant}`, fmtMeanSd(c.baseline, m),
        fmtMeanSd(c.candidate, m), `${fmtSigned(m, c.diff)} (${fmtPercent(c.diffPercent)})`, fmtInterval(c), fmtDf(c), c.verdict,
        comparisonFlags(c).join(", ") || "–",
      ]),
      (i) => (comparisonFlags(list[i]).length > 0 ? "flagged" : ""),
    ));
  }
  if (checks.length > 0) {
    parts.push(`<h2>--fail-if</h2><ul>${checks.map((c) => `<li${c.breached ? ` class="fail"` : ""}>${htmlEscape(c.message)}</li>`).join("")}</ul>`);
  }
  return [
    "<!DOCTYPE html>",
    `<html lang="en"><head><meta charset="utf-8"><title>offload-lab report</title><style>${STYLE}</style></head><body>`,
    parts.join("\n"),
    `<script type="application/json" id="report-data">${scriptJson(chartData(analysis))}</script>`,
    `<script>${chartJsSource()}</script>`,
    `<script>${CLIENT}</script>`,
    "</body></html>",
    "",
  ].join("\n");
}
