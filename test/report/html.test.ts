import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeReport } from "../../src/report/write";
import { scriptJson } from "../../src/report/html";
import { haveChromium, runChromium } from "./chromium";
import { FIXTURES, makeCell } from "./fixtures";
import { colorHistogram, decodePng } from "./png";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "offload-lab-html-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// The first three series colours of the page's palette.
const SERIES_COLOURS = ["31,119,180", "214,39,40", "44,160,44"];
const HOSTILE = `</script><img src=x onerror="document.title='pwned'" id=pwned><script>document.title='pwned2'</script>'"&`;

let html = "";
let hostileHtml = "";
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
});

/**
 * Runs in the page after the report's own scripts: what Chart.js and the whisker plugin hold for
 * every chart, written into the DOM for --dump-dom to carry out.
 */
const PROBE = `<script>
(function () {
  var charts = Object.keys(Chart.instances).map(function (k) {
    var c = Chart.instances[k], bars = [], whiskersInData = 0, flagged = 0;
    c.data.datasets.forEach(function (ds, di) {
      c.getDatasetMeta(di).data.forEach(function (el, i) {
        var b = ds.bars[i];
        if (b && b.low !== null) whiskersInData++;
        if (b && b.flags.length) flagged++;
        if (ds.data[i] !== null) bars.push({ dataset: di, index: i, value: ds.data[i], top: el.y, base: el.base });
      });
    });
    return { canvas: c.canvas.id, type: c.config.type, labels: c.data.labels.length, bars: bars,
      whiskersInData: whiskersInData, whiskers: c.$whiskers ? c.$whiskers.drawn : null, flagged: flagged, flagMarks: c.$whiskers ? c.$whiskers.flagMarks : null };
  });
  var pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(charts);
  document.body.appendChild(pre);
})();
</script>`;

interface ProbedChart {
  canvas: string;
  type: string;
  labels: number;
  bars: Array<{ dataset: number; index: number; value: number; top: number; base: number }>;
  whiskersInData: number;
  whiskers: Array<{ dataset: number; index: number; top: number; bottom: number }> | null;
  flagged: number;
  flagMarks: number | null;
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

describe.skipIf(!haveChromium)("report.html's charts, as Chart.js holds them", () => {
  it("draws grouped bars with a whisker for every interval, marks flagged groups, and logs nothing", () => {
    const { charts, dom, console: messages } = probe(html);
    expect(messages).toEqual([]);
    expect(charts.map((c) => [c.canvas, c.type])).toEqual(
      ["throughput", "cpu", "loss", "jitter", "efficiency"].map((m) => [`chart-${m}`, "bar"]),
    );
    for (const c of charts) {
      // Six categories: MTU 1500 × {1472, 65507} × {plain, uso}, MTU 9000 × {8972, 65507} × uso.
      expect(c.labels, c.canvas).toBe(6);
      expect(c.bars.length, c.canvas).toBeGreaterThan(8);
      // A drawn bar has height: its top is above its base on the canvas.
      for (const b of c.bars) if (b.value > 0) expect(b.base - b.top, `${c.canvas} bar ${b.dataset}/${b.index}`).toBeGreaterThan(0);
      expect(c.whiskersInData, c.canvas).toBeGreaterThan(0);
      expect(c.whiskers!.length, c.canvas).toBe(c.whiskersInData);
      // Each whisker spans its bar's top: the mean lies inside its own interval.
      for (const w of c.whiskers!) {
        const bar = c.bars.find((b) => b.dataset === w.dataset && b.index === w.index)!;
        expect(w.top, c.canvas).toBeLessThan(w.bottom);
        expect(bar.top).toBeGreaterThanOrEqual(w.top - 0.5);
        expect(bar.top).toBeLessThanOrEqual(w.bottom + 0.5);
      }
      expect(c.flagged, c.canvas).toBeGreaterThan(0);
      expect(c.flagMarks, c.canvas).toBe(c.flagged);
    }
    expect(dom).toMatch(/<table id="verdict">/);
    expect(dom.indexOf('id="verdict"')).toBeLessThan(dom.indexOf('id="chart-throughput"'));
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
    expect(dom).toContain('data-charts-drawn="5"');
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
