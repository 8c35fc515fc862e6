import { randomBytes, randomInt } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { PassphraseError } from "../engine/passphrase";
import { hostStackName, type LabHost } from "../hosts/pool";
import { plural } from "../report/format";
import { writeReport } from "../report/write";
import { sampleOrders } from "./order";
import { labSeconds, roundBudget } from "./roundBudget";
import { planRound } from "./roundPlan";
import { fmtSeconds, MIN_PER_ARM, type SamplingOptions } from "./samplingOptions";
import { shardOf } from "./shard";
import {
  readState, STATE_FILE, writeState, type Leftover, type SamplingRound, type SamplingState, type Shard, type SweepRun, type SweepState,
} from "./state";
import type { EngineListener, SweepStack, SweepTarget, SweepWorkspace } from "./workspace";

export interface SweepOptions {
  readonly stacks: readonly string[];
  readonly outDir: string;
  /** Runs of each stack; each gets its own benchmark runId. Default 1. */
  readonly samples?: number;
  readonly shuffle?: boolean;
  /** Shuffle seed; default random. Recorded in the state file either way. */
  readonly seed?: number;
  /** Leave each stack up instead of destroying it after its outputs are saved. */
  readonly keep?: boolean;
  readonly failIf?: readonly string[];
  /** Start of every runId this sweep sets; default `sweep-<random hex>`. */
  readonly runIdPrefix?: string;
  /**
   * The pool: each run goes to a free host, one lab per host at a time, hosts concurrently.
   * Absent: each stack on the host its own file names, one run at a time.
   */
  readonly hosts?: readonly LabHost[] | null;
  /** This job's share of the runs (--shard i/n). */
  readonly shard?: Shard | null;
  /** The command that removes a stack left up on a host, for the summary. */
  readonly removeCommand?: (leftover: Leftover) => string;
  /**
   * --budget: each stack (in-lab arms) is brought up once and sampled in rounds until every
   * verdict row meets the precision target, reaches the cap, or the budget is spent.
   */
  readonly sampling?: SamplingOptions | null;
}

export type SweepPhase = "up" | "destroy";

/** One phase of one run (or a leftover's destroy) on one host, for the progress lines. */
export interface PhaseEvent {
  /** e.g. `[2/4] s1 sandbox-uso-on on sandbox-1`. */
  readonly tag: string;
  readonly phase: SweepPhase;
  readonly host: string | null;
  readonly engineStack: string;
}

/** What a sweep tells whoever shows its progress (src/cli/sweepProgress.ts). */
export interface SweepListener {
  /** A line of the sweep's own: runs planned or resumed, a host lost, a leftover found. */
  note(line: string): void;
  /**
   * Before the first phase and after every one: the phases still to run, and earlier phases'
   * durations; with --budget, the lab time the sweep has left (its rounds end by then at the latest).
   */
  plan(remaining: Record<SweepPhase, number>, workers: number, seen: Record<SweepPhase, number[]>, budgetLeftSeconds?: number | null): void;
  phaseStart(e: PhaseEvent): void;
  phaseEnd(e: PhaseEvent, ok: boolean, seconds: number): void;
  /** The engine's own output and steps, per engine stack. */
  engine(engineStack: string): EngineListener;
}

export interface SweepOutcome {
  /** 0/1/2 as `writeReport`; 3 when runs failed or are left (re-run the same command to resume). */
  readonly exitCode: number;
  readonly files: string[];
  readonly messages: string[];
}

const STACK_NAME = /^[A-Za-z0-9_.-]{1,200}$/;

function freshState(opts: SweepOptions, samples: number): SweepState {
  const seed = opts.seed ?? randomInt(2 ** 31);
  const runIdPrefix = opts.runIdPrefix ?? `sweep-${randomBytes(4).toString("hex")}`;
  const width = String(samples).length;
  const all = sampleOrders(opts.stacks, samples, opts.shuffle ?? false, seed).flatMap((order, i) =>
    order.map((stack) => ({ sample: i + 1, stack })),
  );
  const runs: SweepRun[] = shardOf(all, opts.shard ?? null).map(({ sample, stack }) => ({
    sample,
    stack,
    runId: `${runIdPrefix}-s${sample}`,
    outputFile: opts.sampling ? roundFile(stack, 1) : path.join("outputs", `s${String(sample).padStart(width, "0")}-${stack}.json`),
    phase: "pending" as const,
    attempts: 0,
    error: null,
    host: null,
    startedAt: null,
    measuredAt: null,
    endedAt: null,
    active: false,
    ...(opts.sampling ? { rounds: [], sampled: false } : {}),
  }));
  return {
    version: 2,
    stacks: [...opts.stacks],
    samples,
    shuffle: opts.shuffle ?? false,
    seed,
    runIdPrefix,
    shard: opts.shard ?? null,
    runs,
    leftovers: [],
    ...(opts.sampling ? { sampling: samplingState(opts.sampling) } : {}),
  };
}

/** Each round's outputs in a file of its own: the report reads them all. */
function roundFile(stack: string, round: number): string {
  return path.join("outputs", `${stack}-r${round}.json`);
}

function samplingState(s: SamplingOptions): SamplingState {
  return { precision: s.precision, budgetSeconds: s.budgetSeconds, maxPerArm: s.maxPerArm };
}

function fmtSampling(s: SamplingState | null | undefined): string {
  return s ? `--precision ${+(s.precision * 100).toFixed(3)}% --budget ${s.budgetSeconds}s --max-samples ${s.maxPerArm}` : "no --budget";
}

/** Why an existing state cannot be resumed with these options, or null when it can. */
function mismatch(state: SweepState, opts: SweepOptions, samples: number): string | null {
  if (JSON.stringify(state.stacks) !== JSON.stringify(opts.stacks)) return `stacks ${state.stacks.join(",")}`;
  if (state.samples !== samples) return `--samples ${state.samples}`;
  if (state.shuffle !== (opts.shuffle ?? false)) return state.shuffle ? "--shuffle" : "no --shuffle";
  if (opts.seed !== undefined && state.shuffle && state.seed !== opts.seed) return `seed ${state.seed}`;
  const shard = (s: Shard | null | undefined) => (s ? `--shard ${s.index}/${s.count}` : "no --shard");
  if (shard(state.shard) !== shard(opts.shard)) return shard(state.shard);
  const sampling = opts.sampling ? samplingState(opts.sampling) : null;
  if (fmtSampling(state.sampling) !== fmtSampling(sampling)) return fmtSampling(state.sampling);
  return null;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The engine's error as one line: the step's own error line when it has one. */
function firstLine(text: string): string {
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /\berror: /.test(l)) ?? lines[0] ?? text;
}

/** What is wrong with a `--stacks` list, checked before anything else (the passphrase, a host). */
export function stackListProblem(stacks: readonly string[]): string | null {
  if (stacks.length === 0) return "--stacks: give at least one stack";
  const bad = stacks.find((s) => !STACK_NAME.test(s));
  if (bad !== undefined) return `--stacks: "${bad}" is not a stack name`;
  if (new Set(stacks).size !== stacks.length) return "--stacks: a stack is listed twice";
  return null;
}

const now = () => new Date().toISOString();

/**
 * What a round's outputs say of its cost: its time, its cells, their own wall time when every
 * cell has it, and the highest pair it used (the next round numbers on from there).
 */
function roundStats(
  outputs: Record<string, unknown>,
  seconds: number,
  planned: SamplingRound | null,
): Pick<SamplingRound, "seconds" | "cells" | "cellSeconds" | "lastRepetition"> {
  const cells = Array.isArray(outputs.cells) ? (outputs.cells as { repetition?: unknown; wallSeconds?: unknown }[]) : [];
  const walls = cells.map((c) => c.wallSeconds).filter((w): w is number => typeof w === "number" && Number.isFinite(w) && w >= 0);
  const reps = cells.map((c) => c.repetition).filter((r): r is number => typeof r === "number" && Number.isInteger(r));
  const plannedLast = planned?.rows && planned.firstRepetition !== null ? planned.firstRepetition + Math.max(...planned.rows.map((r) => r.repetitions)) - 1 : 0;
  return {
    seconds,
    cells: cells.length,
    cellSeconds: cells.length > 0 && walls.length === cells.length ? walls.reduce((a, b) => a + b, 0) : null,
    lastRepetition: Math.max(plannedLast, ...reps),
  };
}
const seconds = (from: string | null, to: string | null) => (from !== null && to !== null ? (Date.parse(to) - Date.parse(from)) / 1000 : null);

/**
 * Runs every stack × sample: set the run's benchmark runId, `up`, save the outputs, `destroy`
 * unless kept. Without a pool, one run at a time on each stack's own host. With a pool, each
 * host takes the next run when it is free (one lab per host), hosts concurrently. A run that
 * fails takes its host out of the pool for this sweep (probed: unreachable, libvirtd down, or
 * the lab failed there) and its stack is left as it is; the other hosts take the remaining
 * runs. Progress is saved after every step; running the same command again re-runs only what
 * failed, and first destroys what was left up on a host once that host answers again. Ends
 * with the report when every run is done.
 */
export async function runSweep(
  opts: SweepOptions,
  workspace: SweepWorkspace,
  listener: SweepListener,
  signal?: AbortSignal,
): Promise<SweepOutcome> {
  const samples = opts.samples ?? 1;
  const usage = (m: string): SweepOutcome => ({ exitCode: 2, files: [], messages: [m] });
  const problem = stackListProblem(opts.stacks);
  if (problem !== null) return usage(problem);
  if (!Number.isInteger(samples) || samples < 1) return usage(`--samples must be a positive integer, got ${samples}`);
  if (opts.shard && opts.shuffle && opts.seed === undefined) {
    return usage("--shard with --shuffle needs --seed: every shard must draw the same order to cover the sweep exactly once");
  }
  if (opts.sampling && samples > 1) {
    return usage(`--budget with --samples ${samples}: with --budget the rounds decide how many samples each row gets; give one or the other`);
  }

  fs.mkdirSync(path.join(opts.outDir, "outputs"), { recursive: true });
  let existing = readState(opts.outDir);
  const resumed = existing !== null;
  if (existing !== null) {
    const why = mismatch(existing, opts, samples);
    if (why !== null) return usage(`${path.join(opts.outDir, STATE_FILE)} records another sweep (${why}); use a new output folder or the same options`);
  } else {
    existing = freshState(opts, samples);
  }
  const st: SweepState = existing;
  const save = (): void => writeState(opts.outDir, st);
  const total = st.runs.length;
  const tagOf = (run: SweepRun, host: string | null) =>
    `[${st.runs.indexOf(run) + 1}/${total}] s${run.sample} ${run.stack}${host !== null ? ` on ${host}` : ""}`;

  // An attempt the last sweep was stopped during (killed, or its machine went down): its stack
  // may be partly up on that host.
  /** Runs killed during a round's up: their stack may be locked by the CLI that died. */
  const killedInRound = new Set<SweepRun>();
  for (const run of st.runs) {
    if (!run.active) continue;
    run.active = false;
    if (run.phase === "measured" && st.sampling && run.sampled !== true) killedInRound.add(run);
    if (run.phase === "pending") {
      st.leftovers.push({
        engineStack: hostStackName(run.stack, run.host),
        stack: run.stack,
        host: run.host,
        reason: "the sweep stopped during its up",
        killedDuringUpdate: true,
      });
    }
  }
  save();
  const pool: (LabHost | null)[] = opts.hosts && opts.hosts.length > 0 ? [...opts.hosts] : [null];
  const poolNames = pool.map((h) => h?.name ?? null);
  const sampled = st.sampling
    ? `${opts.stacks.length} stacks, each sampled in rounds to ±${+(st.sampling.precision * 100).toFixed(3)} % or at most ${st.sampling.maxPerArm} per arm, within ${fmtSeconds(st.sampling.budgetSeconds)}`
    : null;
  const counts = (sampled ?? `${opts.stacks.length} stacks × ${samples} samples`) + (st.shard ? `, shard ${st.shard.index}/${st.shard.count}` : "");
  const where = pool[0] === null ? "each on its own host, one at a time" : `on ${pool.length} host${pool.length === 1 ? "" : "s"} (${poolNames.join(", ")})`;
  if (resumed) {
    const done = st.runs.filter((r) => r.phase === "done").length;
    listener.note(`sweep: resuming, ${done} of ${total} runs done (${counts}), ${where}${st.shuffle ? `, seed ${st.seed}` : ""}`);
  } else {
    listener.note(`sweep: ${total} runs (${counts}), ${where}${st.shuffle ? `, shuffled with seed ${st.seed}` : ""}`);
  }
  for (const l of st.leftovers) listener.note(`sweep: left up by an earlier sweep: ${l.engineStack}${l.host !== null ? ` on ${l.host}` : ""} (${l.reason}); it is destroyed before its host takes another lab`);

  const lost = new Map<string | null, string>();
  const taken = new Set<SweepRun>();
  let fatal: unknown = null;
  const seen: Record<SweepPhase, number[]> = { up: [], destroy: [] };
  for (const r of st.runs) {
    const up = seconds(r.startedAt, r.measuredAt);
    const destroy = seconds(r.measuredAt, r.endedAt);
    if (up !== null) seen.up.push(up);
    if (destroy !== null) seen.destroy.push(destroy);
  }
  /** Runs whose destroy is running now: their destroy is no longer to come. */
  const destroying = new Set<SweepRun>();
  const replan = () => {
    listener.plan(
      {
        up: st.runs.filter((r) => r.phase === "pending" && !taken.has(r)).length,
        destroy: opts.keep ? 0 : st.runs.filter((r) => r.phase !== "done" && !destroying.has(r)).length + st.leftovers.length,
      },
      pool.filter((h) => !lost.has(h?.name ?? null)).length,
      seen,
      st.sampling ? Math.max(0, st.sampling.budgetSeconds - st.runs.reduce((n, r) => n + labSeconds(r), 0)) : null,
    );
  };
  const stopped = () => signal?.aborted === true || fatal !== null;

  async function phase<T>(e: PhaseEvent, f: (l: EngineListener) => Promise<T>): Promise<T> {
    listener.phaseStart(e);
    const start = Date.now();
    try {
      const out = await f(listener.engine(e.engineStack));
      const s = (Date.now() - start) / 1000;
      seen[e.phase].push(s);
      replan();
      listener.phaseEnd(e, true, s);
      return out;
    } catch (err) {
      replan();
      listener.phaseEnd(e, false, (Date.now() - start) / 1000);
      throw err;
    }
  }

  /** After a failure on `host`: why, as the host itself tells (unreachable, libvirtd down), else the failure. */
  async function loseHost(host: LabHost | null, stack: string, failure: string): Promise<string> {
    let reason = firstLine(failure);
    if (host !== null) {
      const probe = await workspace.probe(host, stack).catch((e: unknown) => `cannot be probed: ${errorText(e)}`);
      if (probe !== null) reason = `${probe} (${reason})`;
    }
    lost.set(host?.name ?? null, reason);
    if (host !== null) listener.note(`sweep: host ${host.name} leaves the pool for this sweep: ${reason}`);
    return reason;
  }

  /** The engine error a sweep cannot go on from (the passphrase): every host stops. */
  function isFatal(e: unknown): boolean {
    if (e instanceof PassphraseError) fatal = e;
    return fatal !== null;
  }

  /** A run's stack; a leftover of a killed sweep is unlocked first (its CLI may have died holding the lock). */
  async function select(target: SweepTarget, leftover: Leftover | null): Promise<SweepStack> {
    const stack = await workspace.select(target);
    if (leftover?.killedDuringUpdate) await stack.unlock();
    return stack;
  }

  async function destroyLeftover(l: Leftover, host: LabHost | null): Promise<void> {
    try {
      await phase({ tag: `leftover ${l.engineStack}`, phase: "destroy", host: l.host, engineStack: l.engineStack }, async (el) => {
        const stack = await select({ stack: l.stack, host }, l);
        await stack.destroy(el);
      });
      st.leftovers = st.leftovers.filter((x) => x !== l);
      save();
    } catch (e) {
      if (isFatal(e) || signal?.aborted) return;
      l.reason = `its destroy failed: ${await loseHost(host, l.stack, errorText(e))}`;
      save();
    }
  }

  async function destroyRun(run: SweepRun, host: LabHost | null): Promise<void> {
    const engineStack = hostStackName(run.stack, host);
    destroying.add(run);
    try {
      await phase({ tag: tagOf(run, run.host), phase: "destroy", host: run.host, engineStack }, async (el) => {
        const stack = await workspace.select({ stack: run.stack, host });
        await stack.destroy(el);
      });
      run.phase = "done";
      run.endedAt = now();
      run.error = null;
      save();
    } catch (e) {
      if (isFatal(e) || signal?.aborted) return;
      run.error = `destroy failed: ${await loseHost(host, run.stack, errorText(e))}`;
      save();
    } finally {
      destroying.delete(run);
    }
  }

  async function attempt(run: SweepRun, host: LabHost | null, reuses: Leftover | null): Promise<void> {
    const hostName = host?.name ?? null;
    const engineStack = hostStackName(run.stack, host);
    run.attempts += 1;
    run.host = hostName;
    run.active = true;
    run.startedAt = now();
    run.measuredAt = null;
    run.endedAt = null;
    run.error = null;
    // The stack left up by the failed attempt is this run's own: its `up` updates it in place.
    if (reuses !== null) st.leftovers = st.leftovers.filter((x) => x !== reuses);
    save();
    if (st.sampling) run.rounds = [];
    try {
      await phase({ tag: tagOf(run, hostName), phase: "up", host: hostName, engineStack }, async (el) => {
        const stack = await select({ stack: run.stack, host, runId: run.runId }, reuses);
        const upStart = Date.now();
        await stack.up(el);
        const outputs = await stack.outputs();
        run.measuredAt = now();
        if (st.sampling) {
          run.rounds = [{ ...roundStats(outputs, (Date.now() - upStart) / 1000, null), round: 1, firstRepetition: null, rows: null, outputFile: run.outputFile, phase: "measured" }];
        }
        // Which host, when, which attempt: beside the lab's own outputs, for the merged report.
        const sweep = {
          host: host === null ? null : { name: host.name, address: host.address },
          engineStack,
          sample: run.sample,
          runId: run.runId,
          attempt: run.attempts,
          startedAt: run.startedAt,
          measuredAt: run.measuredAt,
          ...(st.sampling ? { round: 1 } : {}),
        };
        fs.writeFileSync(path.join(opts.outDir, run.outputFile), JSON.stringify({ ...outputs, sweep }, null, 2) + "\n");
      });
      run.phase = "measured";
      run.active = false;
      save();
    } catch (e) {
      run.active = false;
      run.measuredAt = null;
      if (isFatal(e)) {
        save();
        return;
      }
      if (signal?.aborted) {
        run.error = "interrupted";
        st.leftovers.push({ engineStack, stack: run.stack, host: hostName, reason: "interrupted during its up" });
        save();
        return;
      }
      run.error = errorText(e);
      save();
      const reason = await loseHost(host, run.stack, run.error);
      run.error = reason;
      st.leftovers.push({ engineStack, stack: run.stack, host: hostName, reason: `its up failed: ${reason}` });
      save();
      return;
    }
    if (st.sampling && !(await sampleRounds(run, host, false))) return;
    await finish(run, host);
  }

  /** A run whose outputs are all saved: kept up (--keep) or destroyed. */
  async function finish(run: SweepRun, host: LabHost | null): Promise<void> {
    if (opts.keep) {
      run.phase = "done";
      run.endedAt = now();
      save();
      return;
    }
    await destroyRun(run, host);
  }

  /**
   * --budget: the rounds of a run's lab after its first up, until no verdict row of it asks for
   * more. Each round is planned from every output saved so far, recorded in the state before its
   * `up` (so a killed sweep runs the same round again), and saved to a file of its own. True when
   * sampling is over; false when stopped or failed (the state says where to resume).
   */
  async function sampleRounds(run: SweepRun, host: LabHost | null, unlockFirst: boolean): Promise<boolean> {
    const sampling = st.sampling as SamplingState;
    const hostName = host?.name ?? null;
    const engineStack = hostStackName(run.stack, host);
    const rounds = (run.rounds ??= []);
    const policy = { target: { relative: sampling.precision }, minPerArm: MIN_PER_ARM, maxPerArm: sampling.maxPerArm, confidence: 0.95 };
    let unlock = unlockFirst;
    while (!stopped()) {
      let round = rounds.find((r) => r.phase === "pending");
      if (round === undefined) {
        const budget = roundBudget(run, st.runs, sampling);
        const files = rounds.filter((r) => r.phase === "measured").map((r) => path.join(opts.outDir, r.outputFile));
        let planned;
        try {
          planned = planRound(files, policy, budget);
        } catch (e) {
          // Outputs the report cannot read (a lab that saved no cells): this run's failure, said, not a crash.
          run.error = `round ${rounds.length + 1} cannot be planned: ${errorText(e)}`;
          save();
          // Its host takes nothing more in this sweep: the next round would be planned from the same outputs.
          lost.set(hostName, run.error);
          return false;
        }
        const left = fmtSeconds(Math.max(0, budget.budgetSeconds - budget.usedSeconds));
        const sweepLeft = fmtSeconds(Math.max(0, sampling.budgetSeconds - st.runs.reduce((n, r) => n + labSeconds(r), 0)));
        const k = rounds.length + 1;
        const name = `${tagOf(run, hostName)}`;
        if (planned.rows.length === 0) {
          const c = planned.counts;
          listener.note(
            `sweep: ${name}: sampling over after ${rounds.length} ${rounds.length === 1 ? "round" : "rounds"}, ${fmtSeconds(labSeconds(run))} of lab time: ` +
              `${plural(c.done, "row")} done, ${c.capped} capped, ${c["out-of-budget"]} out of budget`,
          );
          for (const l of planned.lines) listener.note(`  ${l}`);
          run.sampled = true;
          save();
          return true;
        }
        listener.note(
          `sweep: ${name} round ${k}: ${planned.counts.more} of ${planned.lines.length} rows open, ` +
            `${planned.rows.reduce((n, r) => n + r.repetitions, 0)} pairs at about ${budget.secondsPerSample.toFixed(1)} s a cell; ${left} of this stack's budget left, ${sweepLeft} of the sweep's ${fmtSeconds(sampling.budgetSeconds)}`,
        );
        for (const l of planned.lines) listener.note(`  ${l}`);
        const first = Math.max(0, ...rounds.map((r) => r.lastRepetition ?? 0)) + 1;
        round = { round: k, firstRepetition: first, rows: planned.rows, outputFile: roundFile(run.stack, k), phase: "pending", seconds: null, cells: null, cellSeconds: null, lastRepetition: null };
        rounds.push(round);
        save();
      }
      const current: SamplingRound = round;
      run.active = true;
      run.error = null;
      save();
      try {
        await phase({ tag: `${tagOf(run, hostName)} round ${current.round}`, phase: "up", host: hostName, engineStack }, async (el) => {
          const target = { stack: run.stack, host, runId: run.runId, round: { firstRepetition: current.firstRepetition as number, rows: current.rows ?? [] } };
          const stack = await workspace.select(target);
          if (unlock) await stack.unlock();
          unlock = false;
          const upStart = Date.now();
          await stack.up(el);
          const outputs = await stack.outputs();
          const stats = roundStats(outputs, (Date.now() - upStart) / 1000, current);
          const sweep = {
            host: host === null ? null : { name: host.name, address: host.address },
            engineStack,
            sample: run.sample,
            runId: run.runId,
            round: current.round,
            attempt: run.attempts,
            measuredAt: now(),
          };
          fs.writeFileSync(path.join(opts.outDir, current.outputFile), JSON.stringify({ ...outputs, sweep }, null, 2) + "\n");
          Object.assign(current, stats, { phase: "measured" });
        });
        run.active = false;
        save();
      } catch (e) {
        run.active = false;
        if (isFatal(e)) {
          save();
          return false;
        }
        if (signal?.aborted) {
          run.error = "interrupted";
          save();
          return false;
        }
        run.error = `round ${current.round} failed: ${errorText(e)}`;
        save();
        run.error = `round ${current.round}: ${await loseHost(host, run.stack, errorText(e))}`;
        save();
        return false;
      }
    }
    return false;
  }

  type Task =
    | { kind: "leftover"; leftover: Leftover }
    | { kind: "destroy"; run: SweepRun }
    | { kind: "rounds"; run: SweepRun }
    | { kind: "run"; run: SweepRun; reuses: Leftover | null };

  function nextTask(host: LabHost | null): Task | null {
    const name = host?.name ?? null;
    const pending = st.runs.filter((r) => r.phase === "pending" && !taken.has(r));
    for (const l of st.leftovers.filter((x) => x.host === name)) {
      const own = pending.find((r) => hostStackName(r.stack, host) === l.engineStack);
      return own !== undefined ? { kind: "run", run: own, reuses: l } : { kind: "leftover", leftover: l };
    }
    const owed = st.runs.find((r) => r.phase === "measured" && r.host === name && !taken.has(r));
    if (owed !== undefined) return { kind: st.sampling && owed.sampled !== true ? "rounds" : "destroy", run: owed };
    // A run whose stack another live host of this pool left up goes back to that host, which
    // updates it in place: only there does what its failed up made (a disk its step created
    // but never reported) get into the state, and away on destroy.
    const leftElsewhere = (r: SweepRun) => st.leftovers.some((l) =>
      l.host !== name && !lost.has(l.host) && pool.some((h) => (h?.name ?? null) === l.host) && l.engineStack === hostStackName(r.stack, l.host));
    const next = pending.find((r) => !leftElsewhere(r));
    return next !== undefined ? { kind: "run", run: next, reuses: null } : null;
  }

  async function worker(host: LabHost | null): Promise<void> {
    const name = host?.name ?? null;
    while (!stopped() && !lost.has(name)) {
      const task = nextTask(host);
      if (task === null) return;
      if (task.kind !== "leftover") taken.add(task.run);
      replan();
      if (task.kind === "leftover") await destroyLeftover(task.leftover, host);
      else if (task.kind === "destroy") await destroyRun(task.run, host);
      else if (task.kind === "rounds") {
        const unlock = killedInRound.delete(task.run);
        if (await sampleRounds(task.run, host, unlock)) await finish(task.run, host);
      }
      else await attempt(task.run, host, task.reuses);
    }
  }

  // A host that does not answer takes no run: asked once at the start (one SSH login each,
  // concurrently), so a host that is still down is not handed a lab to fail.
  await Promise.all(
    pool.map(async (h) => {
      if (h === null) return;
      const why = await workspace.probe(h, st.runs[0]?.stack ?? opts.stacks[0]!).catch((e: unknown) => `cannot be probed: ${errorText(e)}`);
      if (why === null) return;
      lost.set(h.name, why);
      listener.note(`sweep: host ${h.name} takes no run in this sweep: ${why}`);
    }),
  );
  replan();
  await Promise.all(pool.map((h) => worker(h)));
  if (fatal !== null) throw fatal;

  const stateFile = path.join(opts.outDir, STATE_FILE);
  const finished = st.runs.every((r) => r.phase === "done");
  // Hosts out and stacks left up are said whether or not every run finished.
  const hostLines = [...lost].filter(([h]) => h !== null).map(([h, why]) => `host ${h}: out of this sweep: ${why}`);
  const leftoverLines = st.leftovers.map(
    (l) => `left up: ${l.engineStack}${l.host !== null ? ` on ${l.host}` : ""} (${l.reason})` + (opts.removeCommand ? `; remove it with: ${opts.removeCommand(l)}` : ""),
  );
  if (!finished || signal?.aborted) {
    const messages: string[] = [];
    for (const r of st.runs) {
      if (r.phase === "done") continue;
      const what = r.phase === "measured"
        ? st.sampling && r.sampled !== true ? `sampling, ${plural(r.rounds?.filter((x) => x.phase === "measured").length ?? 0, "round")} measured` : "measured, destroy owed"
        : r.attempts > 0 ? "failed" : "not run";
      messages.push(`${tagOf(r, r.host)}: ${what}${r.error !== null ? `: ${r.error}` : ""}`);
    }
    messages.push(...hostLines, ...leftoverLines);
    const done = st.runs.filter((r) => r.phase === "done").length;
    messages.push(
      `${signal?.aborted ? "interrupted" : "stopped"}; ${done} of ${total} runs done. Run the same command again to resume: ` +
        "only what did not finish runs again, and a stack left up is destroyed once its host answers.",
    );
    return { exitCode: 3, files: [stateFile], messages };
  }

  const outputFiles = st.runs.flatMap((r) =>
    st.sampling ? (r.rounds ?? []).filter((x) => x.phase === "measured").map((x) => path.join(opts.outDir, x.outputFile)) : [path.join(opts.outDir, r.outputFile)],
  );
  listener.note(`sweep: all ${total} runs done, writing the report`);
  const report = await writeReport(outputFiles, opts.outDir, {
    failIf: opts.failIf ? [...opts.failIf] : undefined,
    target: st.sampling ? { relative: st.sampling.precision } : undefined,
  });
  return {
    exitCode: report.exitCode,
    files: [...outputFiles, stateFile, ...report.files],
    messages: [...hostLines, ...leftoverLines, ...report.messages],
  };
}
