import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main";

// A folder of manual runs recorded by test/fixtures/iperf3/record.sh (--set manual).
const MANUAL = path.join(__dirname, "..", "fixtures", "iperf3", "manual");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ol-cli-import-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function run(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(["node", "offload-lab", ...args], { io: { out: (l) => out.push(l), err: (l) => err.push(l) } });
  return { code, out, err };
}

const manual = (name: string) => path.join(MANUAL, `${name}.json`);

describe("import-iperf3 on a folder mixing good, failed, reverse and TCP runs", () => {
  it("imports every run it can, refuses the rest one line each, and exits 1", async () => {
    const file = path.join(tmp, "manual.json");
    const r = await run("import-iperf3", MANUAL, "--mtu", "9000", "--variant", "mtu9000-uso-on-manual", "--out", file);
    expect(r.code).toBe(1);
    expect(r.out).toEqual([
      `import-iperf3: 8 files: 3 imported, 3 as failed cells, 2 refused; 6 cells in ${file}`,
      `  failed  ${manual("udp-8972B-busy")}: the server is busy running a test. try again later (payload unknown: pass --payload)`,
      `  failed  ${manual("udp-8972B-interrupted")}: interrupt - the client has terminated`,
      `  failed  ${manual("udp-8972B-refused")}: unable to connect to server: Connection refused (payload unknown: pass --payload)`,
      `  refused ${manual("tcp")}: a TCP test, not UDP (run iperf3 with -u)`,
      `  refused ${manual("udp-1472B-reverse")}: a reverse run (-R): the server sent and this end received; the lab measures the client's sending (run without -R)`,
    ]);
    const cells = JSON.parse(fs.readFileSync(file, "utf8")) as Array<{ status: string; payloadBytes: number | null }>;
    expect(cells.map((c) => [c.status, c.payloadBytes])).toEqual([
      ["ok", 1472], ["ok", 65507], ["failed", null], ["failed", 8972], ["failed", null], ["ok", 8972],
    ]);
  });

  it("exits 0 when every file was imported, failed runs included", async () => {
    const r = await run("import-iperf3", manual("udp-1472B"), manual("udp-8972B-busy"), "--payload", "8972", "--out", path.join(tmp, "ok.json"));
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^import-iperf3: 2 files: 1 imported, 1 as failed cells, 0 refused; 2 cells in /);
    expect(r.out[1]).toBe(`  failed  ${manual("udp-8972B-busy")}: the server is busy running a test. try again later`);
  });

  it("gives a report whose verdict table says a plain sender measures nothing about USO", async () => {
    const off = path.join(tmp, "off.json");
    const on = path.join(tmp, "on.json");
    await run("import-iperf3", manual("udp-8972B"), manual("udp-8972B"), "--mtu", "9000", "--variant", "mtu9000-uso-off", "--out", off);
    await run("import-iperf3", manual("udp-8972B"), manual("udp-8972B"), "--mtu", "9000", "--variant", "mtu9000-uso-on", "--out", on);
    const r = await run("report", off, on, "--out", path.join(tmp, "rep"), "--quiet");
    expect(r.code).toBe(0);
    const md = fs.readFileSync(path.join(tmp, "rep", "report.md"), "utf8");
    expect(md.split("\n").find((l) => l.startsWith("## "))).toBe("## USO on vs off");
    const row = md.split("\n").find((l) => l.startsWith("| unknown | 9000 | 8972 | plain |"))!;
    expect(row).toContain("not exercised: plain iperf3 hands the stack one datagram per call");
    expect(row).toContain("this row measures nothing about USO");
  });
});
