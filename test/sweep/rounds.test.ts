import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { runSweep, type SweepOptions } from "../../src/sweep/run";
import { parseDuration, parseMaxSamples, parsePrecision, samplingOptions } from "../../src/sweep/samplingOptions";
import { readState, writeState } from "../../src/sweep/state";
import { FakeArmsLab, type ArmsRow, type ArmsStackSpec, type ArmsValues } from "../support/fakeArmsLab";
import { RecordingListener } from "../support/fakeSweepWorkspace";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "offload-lab-rounds-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const dir = (name: string) => path.join(tmp, name);

// The clock moves only when the fake lab's benchmark runs: a round's time is its cells' time.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(new Date("2026-01-01T00:00:00Z"));
});
afterEach(() => vi.useRealTimers());

const ROWS: ArmsRow[] = [
  { payload: 1472, sender: "plain", bitrate: "100M" },
  { payload: 1472, sender: "gso", bitrate: "0" },
  { payload: 1472, sender: "gso", bitrate: "100M" },
];
const STACK = "sandbox-mtu1500-uso-arms";
const spec = (wallSeconds: number | null = 20): Record<string, ArmsStackSpec> => ({
  [STACK]: { mtu: 1500, rows: ROWS, repetitions: 3, wallSeconds },
  "sandbox-mtu9000-uso-arms": { mtu: 9000, rows: ROWS.map((r) => ({ ...r, payload: 8972 })), repetitions: 3, wallSeconds },
});

/** A spread of ±`spread` around 1, the same for the same row, arm and pair on every run. */
function noise(row: ArmsRow, arm: string, pair: number, spread: number): number {
  const h = (pair * 2654435761 + (arm === "on" ? 97 : 13) * 40503 + row.bitrate.length * 7 + row.payload) % 1000;
  return 1 + spread * (h / 500 - 1);
}

/** USO on: 2.5× the throughput at full rate, half the CPU per Gbit/s at 100M; `cpuSpread` the CPU cells' scatter. */
const values = (cpuSpread: number, cpuEffect = 0.5): ArmsValues => (row, arm, pair) => {
  const full = row.bitrate === "0";
  const mbps = full ? (arm === "on" ? 2500 : 1000) * noise(row, arm, pair, 0.005) : 99;
  return { throughputMbps: mbps, guestCpuPercent: (arm === "on" && row.sender === "gso" ? 40 * cpuEffect : 40) * noise(row, arm, pair, cpuSpread) };
};

const sampling = { precision: 0.1, budgetSeconds: 1800, maxPerArm: 30 };
function sweep(lab: FakeArmsLab, opts: Partial<SweepOptions> & { outDir: string }, listener = new RecordingListener(), signal?: AbortSignal) {
  lab.elapse = (s) => vi.setSystemTime(Date.now() + s * 1000);
  return runSweep({ stacks: [STACK], runIdPrefix: "b", sampling, ...opts }, lab, listener, signal);
}
const ups = (lab: FakeArmsLab) => lab.calls.filter((c) => c.startsWith("up"));
const report = (out: string) => fs.readFileSync(path.join(out, "report.md"), "utf8");

describe("sweep --budget: rounds in one booted lab", () => {
  it("all rows known after round 1: no round 2, the lab is destroyed, the report judges to the target", async () => {
    const lab = new FakeArmsLab(spec(), values(0.01));
    const out = dir("tight");
    const listener = new RecordingListener();
    const r = await sweep(lab, { outDir: out }, listener);
    expect(r.exitCode).toBe(0);
    expect(lab.calls).toEqual([`up ${STACK} matrix`, `destroy ${STACK}`]);
    const run = readState(out)!.runs[0]!;
    expect(run).toMatchObject({ phase: "done", sampled: true });
    expect(run.rounds!.map((x) => [x.round, x.outputFile, x.cells, x.cellSeconds, x.lastRepetition])).toEqual([[1, `outputs/${STACK}-r1.json`, 18, 360, 3]]);
    expect(listener.notes.some((n) => /sampling over after 1 round, 6m 00s of lab time: 2 rows done, 0 capped, 0 out of budget$/.test(n))).toBe(true);
    const md = report(out);
    expect(md).toContain("faster with USO");
    expect(md).toContain("cheaper with USO");
    expect(r.files.map((f) => path.relative(out, f))).toContain(`outputs/${STACK}-r1.json`);
  });

  it("a row still wide asks for more pairs: only it runs again, its pairs numbered on, each round in a file of its own", async () => {
    const lab = new FakeArmsLab(spec(), values(0.3));
    const out = dir("rounds");
    const listener = new RecordingListener();
    const r = await sweep(lab, { outDir: out, sampling: { ...sampling, budgetSeconds: 3 * 3600 } }, listener);
    expect(r.exitCode).toBe(0);
    const u = ups(lab);
    expect(u[0]).toBe(`up ${STACK} matrix`);
    // Round 2: the CPU row alone (throughput was known in round 1; plain rows are never judged), from pair 4, doubling at most.
    expect(u[1]).toBe(`up ${STACK} round from 4: 1472/gso/100M×3`);
    expect(u.length).toBeGreaterThan(2);
    const state = readState(out)!.runs[0]!;
    expect(state.sampled).toBe(true);
    const rounds = state.rounds!;
    expect(rounds.map((x) => x.outputFile)).toEqual(rounds.map((x) => `outputs/${STACK}-r${x.round}.json`));
    for (const [i, x] of rounds.entries()) {
      if (i > 0) expect(x.firstRepetition).toBe(rounds[i - 1]!.lastRepetition! + 1);
      expect(fs.existsSync(path.join(out, x.outputFile))).toBe(true);
    }
    // The report reads every round: all cells of all rounds in results.csv.
    const csv = fs.readFileSync(path.join(out, "results.csv"), "utf8").trim().split("\r\n");
    expect(csv).toHaveLength(1 + rounds.reduce((n, x) => n + x.cells!, 0));
    const roundLines = listener.notes.filter((n) => / round \d+: /.test(n));
    // Round 1 took 18 cells × 20 s of the 3 h.
    expect(roundLines[0]).toBe("sweep: [1/1] s1 sandbox-mtu1500-uso-arms round 2: 1 of 2 rows open, 3 pairs at about 20.0 s a cell; 2h 54m of this stack's budget left, 2h 54m of the sweep's 3h 00m");
    expect(listener.notes).toContainEqual(expect.stringMatching(/^ {2}linux MTU 1500 · 1472 B · gso · CPU per Gbit\/s .*: ±\d+\.\d % \(inconclusive\), target ±10\.0 %: \+3 pairs$/));
    expect(listener.notes).toContainEqual(expect.stringMatching(/^ {2}linux MTU 1500 · 1472 B · gso · throughput .*: ±\d\.\d % \(higher\), target ±10\.0 %: done: target met$/));
    expect(report(out)).toMatch(/cheaper with USO/);
  });

  it("the budget runs out: the row says inconclusive with the precision it reached, and the sweep stops asking", async () => {
    // No effect on CPU and a wide scatter: 30 min of cells would be needed, 10 min are given.
    const lab = new FakeArmsLab(spec(), values(0.3, 1));
    const out = dir("budget");
    const listener = new RecordingListener();
    const r = await sweep(lab, { outDir: out, sampling: { ...sampling, budgetSeconds: 600 } }, listener);
    expect(r.exitCode).toBe(0);
    const run = readState(out)!.runs[0]!;
    const used = run.rounds!.reduce((s, x) => s + x.seconds!, 0);
    expect(used).toBeLessThanOrEqual(600);
    expect(run.rounds!.length).toBeGreaterThan(1);
    expect(listener.notes).toContainEqual(expect.stringMatching(/sampling over after \d rounds, .*: 1 row done, 0 capped, 1 out of budget$/));
    expect(listener.notes).toContainEqual(expect.stringMatching(/CPU per Gbit\/s .*: ±\d+\.\d % \(inconclusive\), target ±10\.0 %: out of budget$/));
    expect(report(out)).toMatch(/\| inconclusive \(±\d+\.\d % reached, target ±10\.0 %\) \|/);
  });

  it("--precision is the report's target too: the verdict table judges and says it to that width", async () => {
    const lab = new FakeArmsLab(spec(), values(0.01, 1));
    const out = dir("precision");
    expect((await sweep(lab, { outDir: out, sampling: { ...sampling, precision: 0.05 } })).exitCode).toBe(0);
    const md = report(out);
    expect(md).toContain("the target is ±5.0 %");
    expect(md).toMatch(/\| no difference \(within ±5\.0 %\) \|/);
    expect(md).not.toContain("±10.0 %");
  });

  it("--max-samples caps a row that never gets there", async () => {
    const lab = new FakeArmsLab(spec(), values(0.3, 1));
    const out = dir("capped");
    const listener = new RecordingListener();
    const r = await sweep(lab, { outDir: out, sampling: { ...sampling, maxPerArm: 5 } }, listener);
    expect(r.exitCode).toBe(0);
    expect(ups(lab)).toEqual([`up ${STACK} matrix`, `up ${STACK} round from 4: 1472/gso/100M×2`]);
    expect(listener.notes).toContainEqual(expect.stringMatching(/CPU per Gbit\/s .*: capped: --max-samples reached$/));
  });

  it("the budget is shared: a stack whose rows are known early leaves its time to the next one", async () => {
    const lab = new FakeArmsLab(spec(), values(0.3, 1));
    const out = dir("shared");
    const stacks = [STACK, "sandbox-mtu9000-uso-arms"];
    const r = await sweep(lab, { outDir: out, stacks, sampling: { ...sampling, budgetSeconds: 1500 } });
    expect(r.exitCode).toBe(0);
    const runs = readState(out)!.runs;
    const used = runs.map((x) => x.rounds!.reduce((s, y) => s + y.seconds!, 0));
    // The first stack had half the budget; the second what the first left.
    expect(used[0]).toBeLessThanOrEqual(750);
    expect(used[0]! + used[1]!).toBeLessThanOrEqual(1500);
    expect(used[1]).toBeGreaterThan(750 - 1);
  });

  it("a sweep killed between rounds resumes with the next round: no round runs twice, the lab is not brought up again", async () => {
    const lab = new FakeArmsLab(spec(), values(0.3));
    const out = dir("killed-between");
    const stop = new AbortController();
    lab.onUp = (_stack, round) => {
      if (round !== undefined) stop.abort();
    };
    const first = await sweep(lab, { outDir: out, sampling: { ...sampling, budgetSeconds: 3 * 3600 } }, new RecordingListener(), stop.signal);
    expect(first.exitCode).toBe(3);
    const state = readState(out)!;
    expect(state.runs[0]).toMatchObject({ phase: "measured", sampled: false, active: false });
    expect(state.runs[0]!.rounds!.map((x) => [x.round, x.phase])).toEqual([[1, "measured"], [2, "measured"]]);
    expect(lab.deployed.has(STACK)).toBe(true);

    lab.onUp = () => undefined;
    lab.calls.length = 0;
    const listener = new RecordingListener();
    const second = await sweep(lab, { outDir: out, sampling: { ...sampling, budgetSeconds: 3 * 3600 } }, listener);
    expect(second.exitCode).toBe(0);
    expect(listener.notes[0]).toBe("sweep: resuming, 0 of 1 runs done (1 stacks, each sampled in rounds to ±10 % or at most 30 per arm, within 3h 00m), each on its own host, one at a time");
    expect(lab.calls[0]).toBe(`up ${STACK} round from 7: 1472/gso/100M×6`);
    expect(lab.calls.filter((c) => c.includes("matrix"))).toEqual([]);
    expect(lab.calls.at(-1)).toBe(`destroy ${STACK}`);
    const rounds = readState(out)!.runs[0]!.rounds!;
    expect(rounds.map((x) => x.round)).toEqual(rounds.map((_, i) => i + 1));
  });

  it("a sweep killed during a round's up runs that same round again, its stack unlocked first", async () => {
    const lab = new FakeArmsLab(spec(), values(0.3));
    const out = dir("killed-during");
    lab.failNextUp.add(STACK);
    // Round 1 fails first: the ordinary retry of a run; then round 2 fails.
    const failed = await sweep(lab, { outDir: out, sampling: { ...sampling, budgetSeconds: 3 * 3600 } });
    expect(failed.exitCode).toBe(3);
    expect(readState(out)!.runs[0]!.rounds).toEqual([]);
    lab.onUp = (stack, round) => {
      if (round !== undefined) lab.failNextUp.add(stack);
    };
    const again = await sweep(lab, { outDir: out, sampling: { ...sampling, budgetSeconds: 3 * 3600 } });
    expect(again.exitCode).toBe(3);
    expect(again.messages[0]).toMatch(/^\[1\/1\] s1 sandbox-mtu1500-uso-arms: sampling, 1 round measured: round 2: error: update failed/);
    // As the state is when the process dies mid-round: the round pending, the run active.
    const state = readState(out)!;
    expect(state.runs[0]!.rounds!.map((x) => [x.round, x.phase])).toEqual([[1, "measured"], [2, "pending"]]);
    state.runs[0]!.active = true;
    writeState(out, state);
    lab.onUp = () => undefined;
    lab.calls.length = 0;
    const resumed = await sweep(lab, { outDir: out, sampling: { ...sampling, budgetSeconds: 3 * 3600 } });
    expect(resumed.exitCode).toBe(0);
    expect(lab.calls.slice(0, 2)).toEqual([`unlock ${STACK}`, `up ${STACK} round from 4: 1472/gso/100M×3`]);
  });

  it("outputs it cannot plan from stop the run with the reason, not a crash and not a loop", async () => {
    const lab = new FakeArmsLab(spec(), values(0.01));
    lab.noCells = true;
    const r = await sweep(lab, { outDir: dir("no-cells") });
    expect(r.exitCode).toBe(3);
    expect(r.messages[0]).toMatch(/^\[1\/1\] s1 sandbox-mtu1500-uso-arms: sampling, 1 round measured: round 2 cannot be planned: .*sandbox-mtu1500-uso-arms-r1\.json: expected a stack output/);
    expect(ups(lab)).toEqual([`up ${STACK} matrix`]);
  });

  it("refuses to resume with other sampling options, and --samples with --budget", async () => {
    const lab = new FakeArmsLab(spec(), values(0.01));
    const out = dir("other-options");
    expect((await sweep(lab, { outDir: out })).exitCode).toBe(0);
    fs.rmSync(path.join(out, "report.md"));
    const r = await sweep(lab, { outDir: out, sampling: { ...sampling, precision: 0.05 } });
    expect(r.exitCode).toBe(2);
    expect(r.messages[0]).toMatch(/records another sweep \(--precision 10% --budget 1800s --max-samples 30\)/);
    const plain = await sweep(lab, { outDir: out, sampling: null });
    expect(plain.messages[0]).toMatch(/records another sweep \(--precision 10% /);
    const s = await sweep(lab, { outDir: dir("samples"), samples: 2 });
    expect(s).toMatchObject({ exitCode: 2, messages: ["--budget with --samples 2: with --budget the rounds decide how many samples each row gets; give one or the other"] });
  });

  it("without wallSeconds, a sample costs the last round's time over its cells", async () => {
    const lab = new FakeArmsLab(spec(null), values(0.3));
    const out = dir("no-wall");
    const listener = new RecordingListener();
    lab.onUp = () => vi.setSystemTime(Date.now() + 90_000);
    expect((await sweep(lab, { outDir: out, sampling: { ...sampling, maxPerArm: 6 } }, listener)).exitCode).toBe(0);
    // Round 1: 90 s for 18 cells.
    expect(listener.notes).toContainEqual(expect.stringMatching(/ round 2: .* at about 5\.0 s a cell; /));
  });
});

describe("the sampling options", () => {
  it("reads a precision as a percentage or a fraction in (0, 100 %)", () => {
    expect(parsePrecision("10%")).toBe(0.1);
    expect(parsePrecision("2.5 %")).toBe(0.025);
    expect(parsePrecision("0.1")).toBe(0.1);
    for (const bad of ["0", "0%", "100%", "1", "150%", "-5%", "ten", "10%%", "", "1e-1"]) {
      expect(parsePrecision(bad)).toBe(`--precision "${bad}": give the 95 % interval's half-width as a percentage or a fraction in (0, 100 %), e.g. 10% or 0.1`);
    }
  });

  it("reads a budget as a duration", () => {
    expect(parseDuration("20m")).toBe(1200);
    expect(parseDuration("90s")).toBe(90);
    expect(parseDuration("1h30m")).toBe(5400);
    for (const bad of ["20", "0m", "1d", "-5m", "m", "169h", "5 m", "20min"]) {
      expect(parseDuration(bad)).toBe(`--budget "${bad}": give a duration such as 90s, 20m, 1h or 1h30m (s, m, h; more than 0, at most 168h)`);
    }
  });

  it("reads --max-samples as a whole number from 3", () => {
    expect(parseMaxSamples("30")).toBe(30);
    for (const bad of ["2", "0", "3.5", "x", "101"]) expect(parseMaxSamples(bad)).toMatch(/^--max-samples ".*": give a whole number of samples per arm from 3 /);
  });

  it("takes --precision and --max-samples only with --budget, and defaults them", () => {
    expect(samplingOptions({})).toBeNull();
    expect(samplingOptions({ budget: "15m" })).toEqual({ precision: 0.1, budgetSeconds: 900, maxPerArm: 30 });
    expect(samplingOptions({ precision: "5%" })).toMatch(/^--precision needs --budget/);
    expect(samplingOptions({ maxSamples: "10" })).toMatch(/^--max-samples needs --budget/);
    expect(samplingOptions({ budget: "15m", samples: 3 })).toMatch(/^--budget with --samples 3: /);
    expect(samplingOptions({ budget: "15m", samples: 1, precision: "abc" })).toMatch(/^--precision "abc"/);
  });
});
