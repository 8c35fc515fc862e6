import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main";
import { elapsed } from "../../src/cli/progress";
import type { SweepWorkspace } from "../../src/sweep/workspace";

const STACKS = path.join(__dirname, "..", "fixtures", "report", "stacks");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ol-cli-progress-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A clock that moves 7 s each time it is read, so every line shows a later time. */
function steppingClock(): () => number {
  let t = 1_000_000;
  return () => (t += 7000);
}

/** Stands in for Pulumi: every stack comes up, prints a line and gives its recorded outputs. */
const fakeWorkspace: SweepWorkspace = {
  async selectStack(name) {
    return {
      name,
      async getRunId() { return undefined; },
      async setRunId() {},
      async up(onOutput) { onOutput("Updating (engine line)\n"); },
      async outputs() { return JSON.parse(fs.readFileSync(path.join(STACKS, `${name}.json`), "utf8")) as Record<string, unknown>; },
      async destroy() {},
    };
  },
};

async function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(["node", "offload-lab", ...args], {
    io: { out: (l) => out.push(l), err: (l) => err.push(l) }, workspace: () => fakeWorkspace, now: steppingClock(),
  });
  return { code, out, err };
}

describe("progress", () => {
  it("formats elapsed time as m:ss, then h:mm:ss", () => {
    expect([elapsed(0), elapsed(7_900), elapsed(65_000), elapsed(3_723_000)]).toEqual(["0:00", "0:07", "1:05", "1:02:03"]);
  });

  it("report says what it does, with the elapsed time, on stderr", async () => {
    const r = await run(["report", STACKS, "--out", path.join(tmp, "rep")]);
    expect(r.code).toBe(0);
    expect(r.err.filter((l) => l.startsWith("["))).toEqual([
      "[0:07] report: reading 1 input",
      "[0:14] report: 24 cells from 4 files; comparing",
      "[0:21] report: writing report.md",
      "[0:28] report: writing results.csv",
      "[0:35] report: writing report.html",
    ]);
    expect(r.out.every((l) => !l.startsWith("["))).toBe(true);
  });

  it("sweep shows run i of n, the phase and the elapsed time", async () => {
    const r = await run(["sweep", "--stacks", "mtu1500-uso-off,mtu1500-uso-on", "--out", path.join(tmp, "sweep"), "--seed", "3"]);
    expect(r.code).toBe(0);
    const lines = r.err.filter((l) => /^\[\d+:\d\d\] /.test(l));
    expect(lines[0]).toBe("[0:07] sweep: 2 runs (2 stacks × 1 samples)");
    expect(lines).toContainEqual(expect.stringMatching(/^\[\d:\d\d\] \[2\/2\] sample 1 mtu1500-uso-on: up \(runId sweep-[0-9a-f]+-s1\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^\[\d:\d\d\] \[1\/2\] sample 1 mtu1500-uso-off: destroy$/));
    expect(lines).toContainEqual(expect.stringMatching(/^\[\d:\d\d\] mtu1500-uso-on │ Updating \(engine line\)$/));
    expect(lines.at(-1)).toMatch(/sweep: all 2 runs done, writing the report$/);
  });

  it("--quiet keeps report and sweep to their results", async () => {
    const rep = await run(["report", STACKS, "--out", path.join(tmp, "rep-q"), "--quiet"]);
    expect(rep.err.some((l) => l.startsWith("["))).toBe(false);
    expect(rep.out).toHaveLength(3);
    const sw = await run(["sweep", "--stacks", "mtu9000-uso-on", "--out", path.join(tmp, "sweep-q"), "--quiet"]);
    expect(sw.code).toBe(0);
    expect(sw.err.some((l) => l.startsWith("[") || l.includes("│"))).toBe(false);
    expect(sw.err[0]).toMatch(/^6 cells from 1 file, 0 excluded; wrote /);
  });
});
