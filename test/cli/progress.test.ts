import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main";
import { elapsed } from "../../src/cli/progress";
import { SweepProgress } from "../../src/cli/sweepProgress";
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
  async select({ stack }) {
    return {
      name: stack,
      async up(l) { l.output("Updating (engine line)\n"); },
      async outputs() { return JSON.parse(fs.readFileSync(path.join(STACKS, `${stack}.json`), "utf8")) as Record<string, unknown>; },
      async destroy() {},
      async unlock() {},
    };
  },
  async probe() { return null; },
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

  it("sweep shows one line per phase with its time and the time left; the engine's output goes to the log it names", async () => {
    const out = path.join(tmp, "sweep");
    const r = await run(["sweep", "--stacks", "mtu1500-uso-off,mtu1500-uso-on", "--out", out, "--seed", "3"]);
    expect(r.code).toBe(0);
    const log = path.join(out, "engine.log");
    const lines = r.err.filter((l) => /^\[\d+:\d\d\] /.test(l));
    expect(lines[0]).toBe(`[0:07] sweep: the engine's whole output goes to ${log}`);
    expect(lines[1]).toMatch(/^\[\d:\d\d\] sweep: 2 runs \(2 stacks × 1 samples\), each on its own host, one at a time$/);
    expect(lines).toContainEqual(expect.stringMatching(/^\[\d:\d\d\] \[1\/2\] s1 mtu1500-uso-off: up done in \d:\d\d · about \d:\d\d left$/));
    expect(lines).toContainEqual(expect.stringMatching(/^\[\d:\d\d\] \[2\/2\] s1 mtu1500-uso-on: destroy done in \d:\d\d · about 0:00 left$/));
    expect(lines.at(-1)).toMatch(/sweep: all 2 runs done, writing the report$/);
    // The engine's own lines are in the log, not on the terminal.
    expect(r.err.some((l) => l.includes("engine line"))).toBe(false);
    expect(fs.readFileSync(log, "utf8")).toMatch(/Z mtu1500-uso-on │ Updating \(engine line\)\n/);
    expect(r.err.at(-1)).toBe(`engine log: ${log}`);
  });

  it("--quiet keeps report and sweep to their results", async () => {
    const rep = await run(["report", STACKS, "--out", path.join(tmp, "rep-q"), "--quiet"]);
    expect(rep.err.some((l) => l.startsWith("["))).toBe(false);
    expect(rep.out).toHaveLength(3);
    const sw = await run(["sweep", "--stacks", "mtu9000-uso-on", "--out", path.join(tmp, "sweep-q"), "--quiet"]);
    expect(sw.code).toBe(0);
    expect(sw.err.some((l) => l.startsWith("[") || l.includes("│"))).toBe(false);
    expect(sw.err[0]).toMatch(/^6 cells from 1 file, 0 excluded; wrote /);
    expect(sw.err.at(-1)).toMatch(/^engine log: .*sweep-q\/engine\.log$/);
  });
});

describe("the sweep's estimate and live line", () => {
  function progress(now: { t: number }, live: string[] = []) {
    return new SweepProgress({
      io: { out: () => undefined, err: () => undefined },
      logFile: path.join(tmp, `live-${now.t}.log`),
      quiet: false,
      live: true,
      writeLive: (t) => live.push(t),
      now: () => now.t,
    });
  }
  const phase = (tag: string, p: "up" | "destroy") => ({ tag, phase: p, host: "kvm-a", engineStack: `${tag}.kvm-a` });

  it("is unknown until an up has ended, then the phases left at their mean over the hosts, less what the running ones have done", () => {
    const clock = { t: 1_000 };
    const p = progress(clock);
    p.plan({ up: 3, destroy: 4 }, 2, { up: [], destroy: [] });
    expect(p.estimate()).toBeNull();
    // Ups took 50 s and 70 s, destroys 10 s: 3 ups and 4 destroys on 2 hosts = (180 + 40) / 2.
    p.plan({ up: 3, destroy: 4 }, 2, { up: [50, 70], destroy: [10] });
    expect(p.estimate()).toBe(110);
    // A running up 20 s in has 40 s left; a destroy before any ended is guessed at a fifth of an up.
    const running = phase("[1/4] s1 x", "up");
    p.phaseStart(running);
    clock.t += 20_000;
    p.plan({ up: 0, destroy: 1 }, 1, { up: [60], destroy: [] });
    expect(p.estimate()).toBe(40 + 12);
    p.close();
  });

  it("with --budget, says the budget left (the rounds end by then at the latest) and the destroys after it", () => {
    const clock = { t: 3_000 };
    const live: string[] = [];
    const p = progress(clock, live);
    p.plan({ up: 1, destroy: 2 }, 1, { up: [60, 20, 20], destroy: [10] }, 300);
    const e = phase("[1/2] s1 sandbox-mtu1500-uso-arms on kvm-a round 3", "up");
    p.phaseStart(e);
    expect(live.at(-1)).toBe("\r\x1b[K[0:00] [1/2] s1 sandbox-mtu1500-uso-arms on kvm-a round 3 up 0:00 · at most about 5:20 left");
    p.close();
  });

  it("draws the running phases and their engine step on one line, cleared for every printed line", () => {
    const clock = { t: 2_000 };
    const live: string[] = [];
    const p = progress(clock, live);
    // The last run is up: its destroy is still to come (12 s), its up has 55 of 60 s left.
    p.plan({ up: 0, destroy: 1 }, 1, { up: [60], destroy: [12] });
    const e = phase("[1/2] s1 sandbox-uso-on on kvm-a", "up");
    p.phaseStart(e);
    clock.t += 5_000;
    p.engine(e.engineStack).step("benchmark", "running");
    p.say("a note");
    expect(live.at(-2)).toBe("\r\x1b[K");
    expect(live.at(-1)).toBe("\r\x1b[K[0:05] [1/2] s1 sandbox-uso-on on kvm-a up 0:05 (benchmark) · about 1:07 left");
    p.close();
  });
});

describe("a sweep that fails or crashes", () => {
  async function sweepWith(workspace: () => SweepWorkspace, out: string) {
    const err: string[] = [];
    const code = await main(["node", "offload-lab", "sweep", "--stacks", "mtu1500-uso-off", "--out", out], {
      io: { out: () => undefined, err: (l) => err.push(l) }, workspace, now: steppingClock(),
    });
    return { code, err };
  }

  it("prints the last 20 lines of the engine's log and where the whole log is", async () => {
    const out = path.join(tmp, "failing");
    const failing: SweepWorkspace = {
      async select({ stack }) {
        return {
          name: stack,
          async up(l) {
            l.output(Array.from({ length: 30 }, (_, i) => `engine line ${i + 1}`).join("\n") + "\n");
            throw new Error("error: update failed");
          },
          async outputs() { return {}; },
          async destroy() {},
          async unlock() {},
        };
      },
      async probe() { return null; },
    };
    const r = await sweepWith(() => failing, out);
    expect(r.code).toBe(3);
    const log = path.join(out, "engine.log");
    const at = r.err.indexOf(`last 20 lines of ${log}:`);
    expect(at).toBeGreaterThan(0);
    const tail = r.err.slice(at + 1, at + 21);
    expect(tail).toHaveLength(20);
    expect(tail.some((l) => l.endsWith("mtu1500-uso-off │ engine line 30"))).toBe(true);
    expect(tail.some((l) => l.endsWith("mtu1500-uso-off │ engine line 10"))).toBe(false);
    expect(r.err.at(-1)).toBe(`engine log: ${log}`);
  });

  it("a crash in offload-lab itself gets the same tail, then its message and exit 70", async () => {
    const out = path.join(tmp, "crashing");
    const r = await sweepWith(() => {
      throw new TypeError("Cannot read properties of undefined (reading 'select')");
    }, out);
    expect(r.code).toBe(70);
    expect(r.err).toContain(`last 20 lines of ${path.join(out, "engine.log")}:`);
    expect(r.err).toContain(`engine log: ${path.join(out, "engine.log")}`);
    expect(r.err).toContain("offload-lab: unexpected error: Cannot read properties of undefined (reading 'select')");
  });
});
