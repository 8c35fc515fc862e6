import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main";

// A folder of manual runs recorded by test/fixtures/iperf3/record.sh (--set manual), and the single runs beside it.
const MANUAL = path.join(__dirname, "..", "fixtures", "iperf3", "manual");
const SINGLE = path.join(__dirname, "..", "fixtures", "iperf3");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ol-cli-import-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function run(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(["node", "offload-lab", ...args], { io: { out: (l) => out.push(l), err: (l) => err.push(l) } });
  return { code, out, err };
}

const manual = (name: string) => path.join(MANUAL, `${name}.json`);
const single = (name: string) => path.join(SINGLE, `${name}.json`);
interface Written { variant: string; factors: Record<string, unknown>; cells: Array<{ status: string; payloadBytes: number | null; variant: string }> }
const written = (file: string) => JSON.parse(fs.readFileSync(file, "utf8")) as Written;

describe("import-iperf3 on a folder mixing good, failed, reverse and TCP runs", () => {
  it("imports every run it can, refuses the rest one line each, and exits 1", async () => {
    const file = path.join(tmp, "manual.json");
    const r = await run("import-iperf3", MANUAL, "--mtu", "9000", "--os", "linux", "--uso", "on", "--variant", "mtu9000-uso-on-manual", "--out", file);
    expect(r.code).toBe(1);
    expect(r.out).toEqual([
      `import-iperf3: 8 files: 3 imported, 3 as failed cells, 2 refused; 6 cells of variant mtu9000-uso-on-manual in ${file}`,
      `  failed  ${manual("udp-8972B-busy")}: the server is busy running a test. try again later (payload unknown: pass --payload)`,
      `  failed  ${manual("udp-8972B-interrupted")}: interrupt - the client has terminated`,
      `  failed  ${manual("udp-8972B-refused")}: unable to connect to server: Connection refused (payload unknown: pass --payload)`,
      `  refused ${manual("tcp")}: a TCP test, not UDP (run iperf3 with -u)`,
      `  refused ${manual("udp-1472B-reverse")}: a reverse run (-R): the server sent and this end received; the lab measures the client's sending (run without -R)`,
    ]);
    const doc = written(file);
    expect(doc.factors).toEqual({ os: "linux", mtu: 9000, uso: true, arms: false, host: null });
    expect(doc.cells.map((c) => [c.status, c.payloadBytes])).toEqual([
      ["ok", 1472], ["ok", 65507], ["failed", null], ["failed", 8972], ["failed", null], ["ok", 8972],
    ]);
  });

  it("exits 0 when every file was imported, failed runs included, and says when no arm was given", async () => {
    const r = await run("import-iperf3", manual("udp-1472B"), manual("udp-8972B-busy"), "--payload", "8972", "--mtu", "9000", "--out", path.join(tmp, "ok.json"));
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^import-iperf3: 2 files: 1 imported, 1 as failed cell, 0 refused; 2 cells of variant imported-mtu9000 in /);
    expect(r.out[1]).toBe(`  failed  ${manual("udp-8972B-busy")}: the server is busy running a test. try again later`);
    expect(r.out[2]).toBe("  note: no --uso, so these cells are in neither USO arm and in no verdict row");
  });
});

describe("import-iperf3 counts every run once and asks for what it cannot know", () => {
  it("refuses a file given twice, naming both paths, and imports it once", async () => {
    const file = path.join(tmp, "twice.json");
    const r = await run("import-iperf3", manual("udp-1472B"), `${MANUAL}/./udp-1472B.json`, "--uso", "off", "--out", file);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`  refused ${MANUAL}/./udp-1472B.json: the same content as ${manual("udp-1472B")}: a run is counted once`);
    expect(written(file).cells).toHaveLength(1);
  });

  it("refuses --variant '' (exit 2) and writes nothing", async () => {
    const file = path.join(tmp, "empty-variant.json");
    const r = await run("import-iperf3", manual("udp-1472B"), "--variant", "", "--out", file);
    expect(r.code).toBe(2);
    expect(r.err.join("\n")).toContain("--variant must not be empty");
    expect(fs.existsSync(file)).toBe(false);
  });

  it("asks for --mtu (exit 2, nothing written) when a payload is above 1500 − 28 and no MTU was given", async () => {
    const file = path.join(tmp, "no-mtu.json");
    const r = await run("import-iperf3", manual("udp-1472B"), manual("udp-8972B"), manual("udp-65507B"), "--out", file);
    expect(r.code).toBe(2);
    expect(r.err.join("\n")).toBe(
      `import-iperf3: ${manual("udp-8972B")} (and 1 more file) sent 8972 B datagrams, above 1500 − 28 (the MTU assumed without --mtu)\n` +
        "Pass --mtu with the path MTU the runs used; nothing was written.",
    );
    expect(fs.existsSync(file)).toBe(false);
  });
});

describe("imports in the report's verdict table", () => {
  it("two imports with the default variant and different --uso stay apart and land in one verdict row", async () => {
    const off = path.join(tmp, "default-off.json");
    const on = path.join(tmp, "default-on.json");
    await run("import-iperf3", manual("udp-8972B"), "--mtu", "9000", "--os", "linux", "--uso", "off", "--out", off);
    await run("import-iperf3", single("udp-8972B-mtu9000"), "--mtu", "9000", "--os", "linux", "--uso", "on", "--out", on);
    expect([written(off).variant, written(on).variant]).toEqual(["imported-linux-mtu9000-uso-off", "imported-linux-mtu9000-uso-on"]);
    const r = await run("report", off, on, "--out", path.join(tmp, "rep"), "--quiet");
    expect(r.code).toBe(0);
    const md = fs.readFileSync(path.join(tmp, "rep", "report.md"), "utf8");
    expect(md.split("\n").find((l) => l.startsWith("## "))).toBe("## USO on vs off");
    const row = md.split("\n").find((l) => l.startsWith("| linux | 9000 | 8972 | plain |"))!;
    expect(row).toContain("| 1/1 |");
    expect(row).toContain("not exercised: plain iperf3 hands the stack one datagram per call");
    expect(row).not.toMatch(/faster|slower|cheaper|costlier|no difference/);
  });

  it("the same iperf3 run imported into two results is counted once by the report, which says so", async () => {
    const a = path.join(tmp, "dup-a.json");
    const b = path.join(tmp, "dup-b.json");
    await run("import-iperf3", manual("udp-8972B"), "--mtu", "9000", "--os", "linux", "--uso", "off", "--out", a);
    await run("import-iperf3", manual("udp-8972B"), "--mtu", "9000", "--os", "linux", "--uso", "on", "--out", b);
    const r = await run("report", a, b, "--out", path.join(tmp, "rep-dup"), "--quiet");
    expect(r.err.join("\n")).toContain(`${path.relative(process.cwd(), b)}: 1 cell imported from the same iperf3 file as a cell of ${path.relative(process.cwd(), a)}: counted once`);
    const md = fs.readFileSync(path.join(tmp, "rep-dup", "report.md"), "utf8");
    expect(md).toContain("No USO off/on pair in these inputs");
  });
});
