import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeReport } from "../../src/report/write";
import { SLOT_PER_BAR } from "../../src/report/chartData";
import { scriptJson } from "../../src/report/html";
import type { CellResult } from "../../src/results/cell";
import { haveChromium, runChromium } from "./chromium";
import { FIXTURES, makeCell } from "./fixtures";
import { colorHistogram, decodePng } from "./png";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "offload-lab-html-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// The first three series colours of the page's palette.
const SERIES_COLOURS = ["31,119,180", "214,39,40", "44,160,44"];
const HOSTILE = `</script><img src=x onerror="document.title='pwned'" id=pwned><script>document.title='pwned2'</script>'"&`;
/** The thinnest bar a reader can still see and point at, in CSS pixels. */
const MIN_BAR_PX = 8;

/**
 * Six variants over seventeen groups: MTU 1500 at nine payloads and MTU 9000 at eight, a gso
 * sender, two cells per group; the payloads above MTU − 28 are fragmented, so flagged.
 */
function crowded(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const payloads: Array<[number, number[]]> = [[1500, [64, 128, 256, 512, 1024, 1200, 1472, 2000, 4000]], [9000, [64, 256, 1024, 1472, 4000, 8000, 8972, 16000]]];
  for (let v = 1; v <= 6; v++) {
    const uso = v % 2 === 0;
    const variant = `host-${Math.ceil(v / 2)}-uso-${uso ? "on" : "off"}`;
    const cells: CellResult[] = payloads.flatMap(([mtu, list]) => list.flatMap((payloadBytes) => [1, 2].map((repetition) => makeCell({
      variant, id: `udp-${payloadBytes}B-gso-${variant}-mtu${mtu}-r${repetition}`, sender: "gso", mtu, payloadBytes, repetition, bitrate: "0",
      fragmented: payloadBytes > mtu - 28, throughputBps: (500 + 40 * v + payloadBytes / 100 + repetition * 3) * 1e6, guestCpuPercent: 8 + v / 2 + repetition / 4,
      evidence: { usoRequested: uso, usoEngaged: uso ? "yes" : "no" },
    }))));
    fs.writeFileSync(path.join(dir, `${variant}.json`), JSON.stringify({ variant, factors: { os: "linux", mtu: 1500, uso, arms: false, host: null }, cells }));
  }
}

let html = "";
let hostileHtml = "";
let crowdedHtml = "";
beforeAll(async () => {
  await writeReport([FIXTURES], path.join(tmp, "fixtures"), {});
  html = path.join(tmp, "fixtures", "report.html");
  const dir = path.join(tmp, "hostile-in");
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, "h.json"), JSON.stringify([
    makeCell({ variant: HOSTILE, id: HOSTILE }), makeCell({ variant: HOSTILE, id: `${HOSTILE}-2`, repetition: 2 }),
  ]));
  await writeReport([dir], path.join(tmp, "hostile"), {});
  hostileHtml = path.join(tmp, "hostile", "report.html");
  crowded(path.join(tmp, "crowded-in"));
  await writeReport([path.join(tmp, "crowded-in")], path.join(tmp, "crowded"), {});
  crowdedHtml = path.join(tmp, "crowded", "report.html");
});

describe("report.html, as a file", () => {
  it("is self-contained: Chart.js inline, nothing fetched", () => {
    const text = fs.readFileSync(html, "utf8");
    expect(text).toContain("Chart.js v4.6.1");
    expect(text).not.toMatch(/<script[^>]*\ssrc=/i);
    expect(text).not.toMatch(/<link[^>]*\shref=/i);
    expect(text).not.toMatch(/url\(\s*['"]?https?:/i);
  });
  it("keeps data inside its script element whatever the names hold", () => {
    expect(scriptJson({ v: "</script><!--\u2028" })).toBe('{"v":"\\u003c/script>\\u003c!--\\u2028"}');
    const text = fs.readFileSync(hostileHtml, "utf8");
    expect(text.match(/<\/script>/gi)).toHaveLength(3);
    expect(text).not.toContain("<img src=x");
  });
  it("gives the charts more height for more groups, room for every bar", () => {
    const height = (file: string) => Number(/<div class="chart" style="height: (\d+)px"><canvas id="chart-throughput"/.exec(fs.readFileSync(file, "utf8"))?.[1]);
    expect(height(crowdedHtml)).toBeGreaterThan(height(html));
    expect(height(crowdedHtml)).toBeGreaterThanOrEqual(17 * 6 * SLOT_PER_BAR);
  });
});

/**
 * Runs in the page after the report's own scripts: what Chart.js and the plugins hold for every
 * chart, written into the DOM for --dump-dom to carry out.
 */
const PROBE = `<script>
(function () {
  var charts = Object.keys(Chart.instances).map(function (k) {
    var c = Chart.instances[k], bars = [], whiskersInData = 0, flagged = 0, patterned = 0;
    c.data.datasets.forEach(function (ds, di) {
      c.getDatasetMeta(di).data.forEach(function (el, i) {
        var b = ds.bars ? ds.bars[i] : null;
        if (b && b.low !== null) whiskersInData++;
        if (b && b.flags.length) {
          flagged++;
          if (typeof CanvasPattern !== "undefined" && ds.backgroundColor[i] instanceof CanvasPattern) patterned++;
        }
        if (ds.data[i] !== null) bars.push({ dataset: di, index: i, x: el.x, base: el.base, y: el.y, height: el.height });
      });
    });
    var y = c.scales.y;
    return { canvas: c.canvas.id, type: c.config.type, indexAxis: c.options.indexAxis, labels: c.data.labels.length, bars: bars,
      ticks: y.ticks.length, tickPixels: y.ticks.map(function (t, i) { return y.getPixelForTick(i); }),
      yTitle: y.options.title.text, label0: c.data.labels[0],
      colours: c.data.datasets.map(function (ds) { return ds.borderColor; }),
      whiskersInData: whiskersInData, whiskers: c.$whiskers ? c.$whiskers.drawn : null, flagged: flagged, patterned: patterned,
      flagMarks: c.$whiskers ? c.$whiskers.flagMarks : null, marks: c.$whiskers ? c.$whiskers.marks : null,
      verdict: c.$verdict || null };
  });
  var pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(charts);
  document.body.appendChild(pre);
})();
</script>`;

interface ProbedBar { dataset: number; index: number; x: number; base: number; y: number; height: number }
interface ProbedChart {
  canvas: string;
  type: string;
  indexAxis: string;
  labels: number;
  bars: ProbedBar[];
  ticks: number;
  tickPixels: number[];
  yTitle: string;
  label0: string;
  colours: unknown[];
  whiskersInData: number;
  whiskers: Array<{ dataset: number; index: number; left: number; right: number }> | null;
  flagged: number;
  patterned: number;
  flagMarks: number | null;
  marks: Array<{ dataset: number; index: number; x: number; y: number; colour: string }> | null;
  verdict: { one: number; estimates: Array<{ index: number; x: number; y: number; judged: boolean }> } | null;
}

function probe(file: string): { charts: ProbedChart[]; dom: string; console: string[] } {
  const probed = file.replace(/\.html$/, ".probed.html");
  fs.writeFileSync(probed, fs.readFileSync(file, "utf8").replace("</body>", `${PROBE}</body>`));
  const page = runChromium(probed, ["--dump-dom", "--window-size=1200,2000"]);
  const m = /<pre id="probe">(.*?)<\/pre>/s.exec(page.stdout);
  if (!m) throw new Error(`no probe output; console: ${page.console.join("\n")}`);
  const text = m[1]!.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  return { charts: JSON.parse(text) as ProbedChart[], dom: page.stdout, console: page.console };
}

const METRIC_CHARTS = ["throughput", "cpu", "loss", "jitter", "efficiency"].map((m) => `chart-${m}`);

/** Bars, whiskers and flag marks as a reader must see them, in one metric chart. */
function expectReadable(c: ProbedChart): void {
  expect(c.indexAxis, c.canvas).toBe("y");
  // Every label is drawn (none skipped for want of room), and the labels do not touch.
  expect(c.ticks, c.canvas).toBe(c.labels);
  const gaps = c.tickPixels.slice(1).map((p, i) => p - c.tickPixels[i]!);
  expect(Math.min(...gaps), `${c.canvas} label spacing`).toBeGreaterThanOrEqual(14);
  for (const b of c.bars) {
    expect(b.height, `${c.canvas} bar ${b.dataset}/${b.index} thickness`).toBeGreaterThanOrEqual(MIN_BAR_PX);
    if (b.x > b.base) expect(b.x - b.base, `${c.canvas} bar ${b.dataset}/${b.index} length`).toBeGreaterThan(0);
  }
  // No two bars share a pixel row: their bands along the category axis are disjoint.
  const bands = c.bars.map((b) => [b.y - b.height / 2, b.y + b.height / 2] as const).sort((p, q) => p[0] - q[0]);
  for (let i = 1; i < bands.length; i++) expect(bands[i]![0], `${c.canvas} overlapping bars`).toBeGreaterThanOrEqual(bands[i - 1]![1] - 0.01);
  // Each whisker spans its bar's end: the mean lies inside its own interval.
  expect(c.whiskers!.length, c.canvas).toBe(c.whiskersInData);
  for (const w of c.whiskers!) {
    const bar = c.bars.find((b) => b.dataset === w.dataset && b.index === w.index)!;
    expect(w.left, c.canvas).toBeLessThanOrEqual(w.right);
    expect(bar.x).toBeGreaterThanOrEqual(w.left - 0.5);
    expect(bar.x).toBeLessThanOrEqual(w.right + 0.5);
  }
  // A flag is a pattern and a symbol in a colour no series has.
  expect(c.flagMarks, c.canvas).toBe(c.flagged);
  expect(c.patterned, c.canvas).toBe(c.flagged);
  for (const m of c.marks!) expect(c.colours, `${c.canvas} mark colour`).not.toContain(m.colour);
}

describe.skipIf(!haveChromium)("report.html's charts, as Chart.js holds them", () => {
  it("draws the verdict's ratios, then grouped bars with a whisker for every interval, marks flagged groups, and logs nothing", () => {
    const { charts, dom, console: messages } = probe(html);
    expect(messages).toEqual([]);
    expect(charts.map((c) => [c.canvas, c.type])).toEqual(["chart-verdict-cpu", ...METRIC_CHARTS].map((id) => [id, "bar"]));
    const verdict = charts[0]!;
    // Four verdict rows (the fixtures ran at 1G: guest CPU per Gbit/s), an estimate drawn for each, two judged.
    expect(verdict.labels).toBe(4);
    expect(verdict.verdict!.estimates.map((e) => e.judged)).toEqual([true, false, true, false]);
    expect(verdict.yTitle).toBe("MTU · payload · sender · bitrate");
    for (const c of charts.slice(1)) {
      // Six categories: MTU 1500 × {1472, 65507} × {plain, uso}, MTU 9000 × {8972, 65507} × uso.
      expect(c.labels, c.canvas).toBe(6);
      expect(c.bars.length, c.canvas).toBeGreaterThan(8);
      expect(c.whiskersInData, c.canvas).toBeGreaterThan(0);
      expect(c.flagged, c.canvas).toBeGreaterThan(0);
      // The axis title names exactly the parts each label is made of.
      expect(c.yTitle).toBe("MTU · payload · sender");
      expect(c.label0.split(" · ")).toHaveLength(3);
      expectReadable(c);
    }
    expect(dom).toMatch(/<table id="verdict">/);
    expect(dom.indexOf('id="verdict"')).toBeLessThan(dom.indexOf('id="chart-throughput"'));
  });

  it("six variants over seventeen groups: every bar at least the minimum thickness, nothing overlapping, every label shown", () => {
    const { charts, console: messages } = probe(crowdedHtml);
    expect(messages).toEqual([]);
    const metric = charts.filter((c) => METRIC_CHARTS.includes(c.canvas));
    expect(metric).toHaveLength(5);
    const throughput = metric[0]!;
    expect(throughput.labels).toBe(17);
    expect(throughput.colours).toHaveLength(6);
    expect(throughput.bars).toHaveLength(6 * 17);
    // Fragmented payloads (2000 and 4000 B at MTU 1500, 16000 B at MTU 9000) are flagged in every variant.
    expect(throughput.flagged).toBe(6 * 3);
    for (const c of metric) expectReadable(c);
    // The verdict: three host pairs × 17 groups on one throughput chart, the fragmented ones not judged.
    const verdict = charts.find((c) => c.canvas === "chart-verdict-throughput")!;
    expect(verdict.labels).toBe(17);
    expect(verdict.verdict!.estimates.filter((e) => !e.judged)).toHaveLength(3);
  });
});

describe.skipIf(!haveChromium)("report.html in headless Chromium", () => {
  it("draws every chart with no console message", () => {
    const shot = path.join(tmp, "fixtures.png");
    const page = runChromium(html, [`--screenshot=${shot}`, "--window-size=1200,2000"]);
    expect(page.console).toEqual([]);
    const img = decodePng(fs.readFileSync(shot));
    expect([img.width, img.height]).toEqual([1200, 2000]);
    const colours = colorHistogram(img);
    // Text and tables alone give a few dozen greys; charts add series colours and their antialiasing.
    expect(colours.size).toBeGreaterThan(100);
    for (const c of SERIES_COLOURS) expect(colours.get(c) ?? 0, `series colour ${c}`).toBeGreaterThan(50);
    const dom = runChromium(html, ["--dump-dom"]).stdout;
    expect(dom).toContain('data-charts-drawn="6"');
  });
  it("shows hostile names as text: no injected element, no script run, charts drawn", () => {
    const page = runChromium(hostileHtml, ["--dump-dom"]);
    expect(page.console).toEqual([]);
    expect(page.stdout).toContain('data-charts-drawn="5"');
    expect(page.stdout).not.toMatch(/<img[^>]*id="?pwned/);
    expect(page.stdout).toContain("<title>offload-lab report</title>");
    expect(page.stdout).toContain("&lt;/script&gt;&lt;img src=x");
  });
  it("would see a console error: the check is live", () => {
    const bad = path.join(tmp, "bad.html");
    fs.writeFileSync(bad, "<!DOCTYPE html><body><script>undefinedFunction();</script></body>");
    const page = runChromium(bad, ["--dump-dom"]);
    expect(page.console.join("\n")).toContain("Uncaught ReferenceError: undefinedFunction is not defined");
  });
  it("would see a blank page: the screenshot check is live", () => {
    const blank = path.join(tmp, "blank.html");
    fs.writeFileSync(blank, "<!DOCTYPE html><body style='background:#fff'></body>");
    const shot = path.join(tmp, "blank.png");
    runChromium(blank, [`--screenshot=${shot}`, "--window-size=400,300"]);
    const colours = colorHistogram(decodePng(fs.readFileSync(shot)));
    expect(colours.size).toBeLessThanOrEqual(2);
  });
});
