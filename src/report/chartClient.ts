/**
 * Runs in the browser: one grouped-bar chart per metric. A small plugin draws each bar's 95 %
 * interval of the mean as a whisker after the bars, and a "!" above every flagged group, so a
 * flag is seen in the chart and not only in the tables. What it drew is kept on the chart
 * (`chart.$whiskers`) for a headless check.
 */
export const CHART_CLIENT = `
(function () {
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];

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
      var ctx = chart.ctx, y = chart.scales.y, area = chart.chartArea, drawn = [], marks = 0;
      ctx.save();
      ctx.beginPath(); ctx.rect(area.left, area.top - 14, area.right - area.left, area.bottom - area.top + 14); ctx.clip();
      chart.data.datasets.forEach(function (ds, di) {
        var meta = chart.getDatasetMeta(di);
        if (!chart.isDatasetVisible(di)) return;
        meta.data.forEach(function (el, i) {
          var b = ds.bars[i];
          if (!b) return;
          if (b.low !== null && b.high !== null) {
            var top = y.getPixelForValue(b.high), bottom = y.getPixelForValue(b.low), cap = Math.max(3, el.width / 4);
            ctx.strokeStyle = "#222"; ctx.lineWidth = 1.5;
            ctx.beginPath();
            ctx.moveTo(el.x, top); ctx.lineTo(el.x, bottom);
            ctx.moveTo(el.x - cap, top); ctx.lineTo(el.x + cap, top);
            ctx.moveTo(el.x - cap, bottom); ctx.lineTo(el.x + cap, bottom);
            ctx.stroke();
            drawn.push({ dataset: di, index: i, top: top, bottom: bottom });
          }
          if (b.flags.length) {
            var at = b.high !== null ? y.getPixelForValue(b.high) : b.mean !== null ? el.y : y.getPixelForValue(0);
            ctx.fillStyle = "#b00"; ctx.font = "bold 13px sans-serif"; ctx.textAlign = "center";
            ctx.fillText("!", el.x, at - 4);
            marks++;
          }
        });
      });
      ctx.restore();
      chart.$whiskers = { drawn: drawn, flagMarks: marks };
    }
  };

  var charts = 0;
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
            borderWidth: bars.map(function (b) { return b && b.flags.length ? 2 : 0; })
          };
        })
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: {
          title: { display: true, text: metric.label + " — mean with 95 % interval; striped and ! = flagged" },
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
        scales: { x: { title: { display: true, text: "MTU · payload · sender" } }, y: { beginAtZero: true, suggestedMax: highest * 1.05 } }
      },
      plugins: [whiskers]
    });
    charts++;
  });
  // Lets a headless check tell "every chart was drawn" from "the page loaded".
  document.body.setAttribute("data-charts-drawn", String(charts));
})();
`;
