import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeReport } from "../../src/report/write";
import { parseFailRule } from "../../src/report/thresholds";
import { expectGolden } from "../support/golden";
import { FIXTURES, makeCell } from "./fixtures";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "offload-lab-report-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** RFC 4180 reader, written here so the test does not trust the writer's own quoting. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") { row.push(field); field = ""; }
    else if (ch === "\r" && text[i + 1] === "\n") { row.push(field); rows.push(row); row = []; field = ""; i++; }
    else field += ch;
  }
  return rows;
}

describe("writeReport on the recorded fixtures", () => {
  it("writes report.md and results.csv as the golden files say", async () => {
    const out = path.join(tmp, "golden");
    const r = await writeReport([path.relative(process.cwd(), FIXTURES)], out, {});
    expect(r.exitCode).toBe(0);
    expect(r.files.map((f) => path.basename(f))).toEqual(["report.md", "results.csv", "report.html"]);
    expectGolden("report/report.md", fs.readFileSync(path.join(out, "report.md"), "utf8"));
    expectGolden("report/results.csv", fs.readFileSync(path.join(out, "results.csv"), "utf8"));
  });
  it("writes one CSV row per cell, flagged ones included and marked", async () => {
    const out = path.join(tmp, "csv");
    await writeReport([FIXTURES], out, {});
    const rows = parseCsv(fs.readFileSync(path.join(out, "results.csv"), "utf8"));
    const header = rows[0]!;
    expect(rows).toHaveLength(1 + 27);
    const at = (name: string): number => header.indexOf(name);
    const stalled = rows.find((r) => r[at("cell_id")] === "udp-65507B-mtu1500-uso-on-r2")!;
    expect([stalled[at("counted")], stalled[at("flags")], stalled[at("status")]]).toEqual(["false", "invalid stalled fragmented", "invalid"]);
    expect(rows.every((r) => r.length === header.length)).toBe(true);
  });
});

describe("every input counted once", () => {
  it("reads a folder and a file in it once, says so, and names a variant pooled from several files", async () => {
    const dir = path.join(tmp, "once");
    fs.mkdirSync(dir, { recursive: true });
    const imported = (n: number) => ({ variant: "imported-linux-mtu1500-uso-off", factors: { os: "linux", mtu: 1500, uso: false, arms: false, host: null },
      cells: [makeCell({ variant: "imported-linux-mtu1500-uso-off", repetition: n, throughputBps: (600 + n) * 1e6 })] });
    fs.writeFileSync(path.join(dir, "a.json"), JSON.stringify(imported(1)));
    fs.writeFileSync(path.join(dir, "b.json"), JSON.stringify(imported(2)));
    const rel = path.relative(process.cwd(), dir);
    const r = await writeReport([rel, path.join(rel, "a.json")], path.join(tmp, "once-out"), {});
    expect(r.exitCode).toBe(0);
    expect(r.messages[0]).toMatch(/^2 cells from 2 files, 0 excluded; /);
    expect(r.messages[1]).toBe(`${path.join(rel, "a.json")}: given more than once (a folder and a file in it, or twice): read once`);
    const md = fs.readFileSync(path.join(tmp, "once-out", "report.md"), "utf8");
    expect(md).toContain(`- variant imported-linux-mtu1500-uso-off pools 2 files: ${path.join(rel, "a.json")}, ${path.join(rel, "b.json")}`);
    expect(md).toContain(`- counted once: ${path.join(rel, "a.json")}: given more than once`);
    expect(md.split("\n")[2]).toBe("2 files, 1 variant, 2 cells: 0 flagged and excluded from every mean, 0 flagged and counted.");
  });
});

describe("--fail-if", () => {
  it("parses the documented forms", () => {
    expect(parseFailRule("throughput-drop:uso>5%")).toMatchObject({ metric: "throughput", direction: "drop", selector: { factor: "uso" }, limit: 5, relative: true });
    expect(parseFailRule("cpu-rise:a-b..c.d>0.5")).toMatchObject({ metric: "cpu", direction: "rise", selector: { baseline: "a-b", candidate: "c.d" }, limit: 0.5, relative: false });
  });
  it.each(["throughput-fall:uso>5%", "speed-drop:uso>5%", "throughput-drop:usb>5%", "throughput-drop:uso>", "throughput-drop:a..>5%"])(
    "refuses %s with exit code 2 and writes nothing", async (rule) => {
      const out = path.join(tmp, "bad-rule");
      const r = await writeReport([FIXTURES], out, { failIf: [rule] });
      expect(r.exitCode).toBe(2);
      expect(r.messages[0]).toContain(rule);
      expect(fs.existsSync(out)).toBe(false);
    },
  );
  it("exits 1 when USO on loses more throughput than allowed, 0 when within", async () => {
    // Make USO on 20 % slower than off: a regression the gate must catch.
    const dir = path.join(tmp, "regress");
    fs.mkdirSync(dir, { recursive: true });
    const cells = (variant: string, bps: number, uso: boolean) => [1, 2, 3].map((rep) =>
      makeCell({ variant, repetition: rep, sender: "gso", throughputBps: bps + rep * 1e6, evidence: { usoRequested: uso, usoEngaged: uso ? "yes" : "no" } }));
    fs.writeFileSync(path.join(dir, "off.json"), JSON.stringify(cells("mtu1500-uso-off", 600e6, false)));
    fs.writeFileSync(path.join(dir, "on.json"), JSON.stringify(cells("mtu1500-uso-on", 480e6, true)));
    const fail = await writeReport([dir], path.join(tmp, "regress-out"), { failIf: ["throughput-drop:uso>5%"] });
    expect(fail.exitCode).toBe(1);
    expect(fail.messages.some((m) => /drop 19\.9\d*% > 5% FAIL/.test(m))).toBe(true);
    expect(fs.readFileSync(path.join(tmp, "regress-out", "report.md"), "utf8")).toContain("**FAIL**");
    const mixed = await writeReport([dir], path.join(tmp, "regress-out"), { failIf: ["throughput-drop:uso>25%", "throughput-rise:mtu1500-uso-on..mtu1500-uso-off>100"] });
    expect(mixed.exitCode).toBe(1);
    expect(mixed.messages.filter((m) => m.endsWith("FAIL"))).toEqual([
      "throughput-rise:mtu1500-uso-on..mtu1500-uso-off>100: mtu1500-uso-on → mtu1500-uso-off @ 1472 B gso 1G: rise 120 > 100 FAIL",
    ]);
    const ok = await writeReport([dir], path.join(tmp, "regress-out"), { failIf: ["throughput-drop:uso>25%"] });
    expect(ok.exitCode).toBe(0);
  });
  it("fails closed when a side has no counted cell, and exits 2 when a rule selects nothing", async () => {
    const dir = path.join(tmp, "missing");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "a.json"), JSON.stringify([
      makeCell({ variant: "v-uso-off", sender: "gso" }),
      makeCell({ variant: "v-uso-on", sender: "gso", status: "failed", throughputBps: null, evidence: { usoRequested: true, usoEngaged: "unknown" } }),
    ]));
    const r = await writeReport([dir], path.join(tmp, "missing-out"), { failIf: ["throughput-drop:uso>5%"] });
    expect(r.exitCode).toBe(1);
    expect(r.messages.join("\n")).toContain("cannot evaluate, no counted cells on one side (n=1 vs 0)");
    const none = await writeReport([dir], path.join(tmp, "missing-out"), { failIf: ["throughput-drop:mtu>5%"] });
    expect(none.exitCode).toBe(2);
    expect(none.messages).toContain("throughput-drop:mtu>5%: selects no pair of variants in these inputs");
  });
  it("judges only pairs that can show USO, names what it skipped, and exits 2 when nothing is left to judge", async () => {
    const r = await writeReport([FIXTURES], path.join(tmp, "skip-out"), { failIf: ["cpu-rise:uso>50%"] });
    expect(r.exitCode).toBe(0);
    expect(r.messages.filter((m) => m.startsWith("cpu-rise:uso>50%"))).toEqual([
      "cpu-rise:uso>50%: mtu1500-uso-off → mtu1500-uso-on @ 1472 B uso 1G: rise -10.84% ≤ 50% ok",
      "cpu-rise:uso>50%: mtu9000-uso-off → mtu9000-uso-on @ 8972 B uso 1G: rise -10.31% ≤ 50% ok",
      "cpu-rise:uso>50%: skipped 2 pairs that cannot show USO: mtu1500-uso-off → mtu1500-uso-on @ 65507 B uso 1G (fragmented); " +
        "mtu9000-uso-off → mtu9000-uso-on @ 65507 B uso 1G (fragmented)",
    ]);
    // A plain sender's pair only: a gate that judges nothing must not pass.
    const dir = path.join(tmp, "plain-only");
    fs.mkdirSync(dir, { recursive: true });
    const plain = (variant: string, uso: boolean) => [1, 2].map((repetition) => makeCell({ variant, repetition, evidence: { usoRequested: uso, usoEngaged: uso ? "not-exercised" : "not-exercised" } }));
    fs.writeFileSync(path.join(dir, "off.json"), JSON.stringify({ variant: "p-off", factors: { os: "linux", mtu: 1500, uso: false, arms: false, host: null }, cells: plain("p-off", false) }));
    fs.writeFileSync(path.join(dir, "on.json"), JSON.stringify({ variant: "p-on", factors: { os: "linux", mtu: 1500, uso: true, arms: false, host: null }, cells: plain("p-on", true) }));
    const nothing = await writeReport([dir], path.join(tmp, "plain-out"), { failIf: ["throughput-drop:uso>5%"] });
    expect(nothing.exitCode).toBe(2);
    expect(nothing.messages.slice(-2)).toEqual([
      "throughput-drop:uso>5%: skipped 1 pair that cannot show USO: p-off → p-on @ 1472 B plain 1G (not exercised)",
      "throughput-drop:uso>5%: matches no pair that can show the effect: nothing judged",
    ]);
  });
  it("exits 2 on unusable inputs", async () => {
    const r = await writeReport([path.join(tmp, "absent")], path.join(tmp, "x"), {});
    expect(r.exitCode).toBe(2);
    expect(r.messages[0]).toMatch(/absent: no such file or folder/);
  });
});

describe("hostile strings", () => {
  const evil = "=HYPERLINK(\"x\")|`<b>*_[x](y)\n# h";
  it("keep Markdown rows whole and inert, and CSV cells text", async () => {
    const dir = path.join(tmp, "evil");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "e.json"), JSON.stringify([makeCell({ variant: evil, error: "a|b\r\nc", status: "failed", throughputBps: null })]));
    const out = path.join(tmp, "evil-out");
    await writeReport([dir], out, {});
    const md = fs.readFileSync(path.join(out, "report.md"), "utf8");
    const flaggedRow = md.split("\n").find((l) => l.startsWith("| udp-1472B-"))!;
    // Six columns: seven unescaped pipes.
    expect(flaggedRow.match(/(?<!\\)\|/g)).toHaveLength(7);
    expect(md).not.toContain("<b>");
    expect(md).not.toMatch(/^# h/m);
    const rows = parseCsv(fs.readFileSync(path.join(out, "results.csv"), "utf8"));
    const header = rows[0]!;
    expect(rows[1]![header.indexOf("variant")]).toBe(`'${evil}`);
    expect(rows[1]![header.indexOf("error")]).toBe("a|b\r\nc");
  });
});
