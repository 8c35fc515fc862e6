/**
 * Runs in the browser. First the verdict charts: per measure, each verdict row's on/off ratio as
 * a floating bar over its 95 % interval on a log axis, with a tick at the estimate and a line at
 * 1. Then one horizontal grouped-bar chart per metric, one bar per variant; a small plugin draws
 * each bar's 95 % interval of the mean as a whisker after the bars, and marks a flagged group with
 * stripes in the series' own colour and a black "!" beside it: a pattern and a symbol, never a
 * colour, since every colour belongs to a variant. What the plugins drew is kept on the chart
 * (`chart.$whiskers`, `chart.$verdict`) for a headless check.
 */
export const CHART_CLIENT = `
(function () {
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];
  var MARK = "#000000";

  function stripes(color) {
    var c = document.createElement("canvas");
    c.width = 8; c.height = 8;
    var g = c.getContext("2d");
    g.fillStyle = "#ffffff"; g.fillRect(0, 0, 8, 8);
    g.strokeStyle = color; g.lineWidth = 3;
    g.beginPath(); g.moveTo(-2, 10); g.lineTo(10, -2); g.moveTo(6, 10); g.lineTo(10, 6); g.moveTo(-2, 2); g.lineTo(2, -2); g.stroke();
    return g.createPattern(c, "repeat");
  }

  var whiskers = {
    id: "whiskers",
    afterDatasetsDraw: function (chart) {
      var ctx = chart.ctx, x = chart.scales.x, area = chart.chartArea, drawn = [], marks = [];
      ctx.save();
      ctx.beginPath(); ctx.rect(area.left, area.top, area.right - area.left + 16, area.bottom - area.top); ctx.clip();
      chart.data.datasets.forEach(function (ds, di) {
        if (!chart.isDatasetVisible(di)) return;
        chart.getDatasetMeta(di).data.forEach(function (el, i) {
          var b = ds.bars[i];
          if (!b) return;
          var end = el.x;
          if (b.low !== null && b.high !== null) {
            var left = x.getPixelForValue(b.low), right = x.getPixelForValue(b.high), cap = Math.max(2, el.height / 3);
            ctx.strokeStyle = "#222"; ctx.lineWidth = 1.5;
            ctx.beginPath();
            ctx.moveTo(left, el.y); ctx.lineTo(right, el.y);
            ctx.moveTo(left, el.y - cap); ctx.lineTo(left, el.y + cap);
            ctx.moveTo(right, el.y - cap); ctx.lineTo(right, el.y + cap);
            ctx.stroke();
            drawn.push({ dataset: di, index: i, left: left, right: right });
            end = Math.max(end, right);
          }
          if (b.flags.length) {
            ctx.fillStyle = MARK; ctx.font = "bold 12px sans-serif"; ctx.textAlign = "left"; ctx.textBaseline = "middle";
            ctx.fillText("!", end + 3, el.y);
            marks.push({ dataset: di, index: i, x: end + 3, y: el.y, colour: MARK });
          }
        });
      });
      ctx.restore();
      chart.$whiskers = { drawn: drawn, flagMarks: marks.length, marks: marks };
    }
  };

  var estimates = {
    id: "estimates",
    afterDatasetsDraw: function (chart) {
      var ctx = chart.ctx, x = chart.scales.x, y = chart.scales.y, area = chart.chartArea, drawn = [];
      var points = chart.data.datasets[0].points;
      ctx.save();
      var one = x.getPixelForValue(1);
      ctx.strokeStyle = "#555"; ctx.setLineDash([4, 3]); ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(one, area.top); ctx.lineTo(one, area.bottom); ctx.stroke();
      ctx.setLineDash([]);
      points.forEach(function (p, i) {
        if (p.ratio === null) return;
        var px = x.getPixelForValue(p.ratio), py = y.getPixelForValue(i), h = 7;
        ctx.fillStyle = MARK;
        ctx.beginPath(); ctx.moveTo(px, py - h); ctx.lineTo(px + h, py); ctx.lineTo(px, py + h); ctx.lineTo(px - h, py); ctx.closePath(); ctx.fill();
        drawn.push({ index: i, x: px, y: py, judged: p.judged });
      });
      ctx.restore();
      chart.$verdict = { one: one, estimates: drawn };
    }
  };

  var charts = 0;
  data.verdict.forEach(function (v) {
    var values = [1];
    v.points.forEach(function (p) { [p.ratio, p.low, p.high].forEach(function (n) { if (n !== null) values.push(n); }); });
    var low = Math.min.apply(null, values), high = Math.max.apply(null, values);
    new Chart(document.getElementById("chart-" + v.id), {
      type: "bar",
      data: {
        labels: v.labels,
        datasets: [{
          label: "95 % interval of on/off",
          points: v.points,
          data: v.points.map(function (p) { return p.low !== null ? [p.low, p.high] : null; }),
          backgroundColor: v.points.map(function (p) { return p.judged ? "#1f77b4" : stripes("#999999"); }),
          borderColor: v.points.map(function (p) { return p.judged ? "#1f77b4" : "#999999"; }),
          borderWidth: 1,
          borderSkipped: false
        }]
      },
      options: {
        indexAxis: "y",
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: {
          legend: { display: false },
          title: { display: true, text: v.title + " — ratio (◆) and 95 % interval; grey stripes = not judged; dashed line = no change" },
          tooltip: {
            callbacks: {
              label: function (ctx) {
                var p = v.points[ctx.dataIndex];
                var r = p.ratio === null ? "–" : p.ratio.toFixed(3) + (p.low !== null ? " [" + p.low.toFixed(3) + ", " + p.high.toFixed(3) + "]" : "");
                return "on/off " + r + " | precision " + p.precision + " | " + p.verdict;
              }
            }
          }
        },
        scales: {
          x: { type: "logarithmic", min: low / 1.1, max: high * 1.1, title: { display: true, text: "USO on / USO off (log scale)" } },
          y: { title: { display: true, text: v.axisTitle }, ticks: { autoSkip: false } }
        }
      },
      plugins: [estimates]
    });
    charts++;
  });

  data.metrics.forEach(function (metric) {
    var highest = 0;
    data.series.forEach(function (s) { s.bars[metric.id].forEach(function (b) { if (b) highest = Math.max(highest, b.high !== null ? b.high : (b.mean || 0)); }); });
    new Chart(document.getElementById("chart-" + metric.id), {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: data.series.map(function (s, i) {
          var color = palette[i % palette.length];
          var bars = s.bars[metric.id];
          return {
            label: s.label,
            bars: bars,
            data: bars.map(function (b) { return b ? b.mean : null; }),
            backgroundColor: bars.map(function (b) { return b && b.flags.length ? stripes(color) : color; }),
            borderColor: color,
            borderWidth: bars.map(function (b) { return b && b.flags.length ? 2 : 0; }),
            categoryPercentage: 0.85,
            barPercentage: 0.9
          };
        })
      },
      options: {
        indexAxis: "y",
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        layout: { padding: { right: 16 } },
        plugins: {
          title: { display: true, text: metric.label + " — mean with 95 % interval; striped with ! = flagged" },
          tooltip: {
            callbacks: {
              afterLabel: function (ctx) {
                var b = data.series[ctx.datasetIndex].bars[metric.id][ctx.dataIndex];
                if (!b) return "";
                var ci = b.low !== null ? "95 % CI [" + b.low.toFixed(2) + ", " + b.high.toFixed(2) + "]" : "no interval (n=" + b.n + ")";
                return ci + " | counted " + b.counted + (b.flags.length ? " | FLAGGED: " + b.flags.join(", ") : "");
              }
            }
          }
        },
        scales: {
          y: { title: { display: true, text: data.axisTitle }, ticks: { autoSkip: false } },
          x: { beginAtZero: true, suggestedMax: highest * 1.05, title: { display: true, text: metric.label } }
        }
      },
      plugins: [whiskers]
    });
    charts++;
  });
  // Lets a headless check tell "every chart was drawn" from "the page loaded".
  document.body.setAttribute("data-charts-drawn", String(charts));
})();
`;
