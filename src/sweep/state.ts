import * as fs from "node:fs";
import * as path from "node:path";

/**
 * pending: not measured yet (or its `up` failed); measured: outputs saved, destroy still owed
 * (on the host it ran on); done: outputs saved and destroyed (or kept with --keep).
 */
export type RunPhase = "pending" | "measured" | "done";

export interface SweepRun {
  readonly sample: number;
  readonly stack: string;
  readonly runId: string;
  /** Relative to the output folder. */
  readonly outputFile: string;
  phase: RunPhase;
  attempts: number;
  /** Why the last attempt failed, or null. */
  error: string | null;
  /** The pool host of the last attempt; null: the stack's own host (a sweep without --hosts). */
  host: string | null;
  /** When the last attempt's `up` started, its outputs were saved, and its destroy ended (ISO 8601). */
  startedAt: string | null;
  measuredAt: string | null;
  endedAt: string | null;
  /** True while an attempt runs: a sweep that finds it set was stopped during that attempt. */
  active: boolean;
  /** --budget: the rounds of this run's lab so far, round 1 its stack's matrix. */
  rounds?: SamplingRound[];
  /** --budget: no row of this lab asks for more (done, capped or out of budget); its destroy is owed. */
  sampled?: boolean;
}

/** One row of a round as `benchmark.round` takes it: a payload, sender and bitrate, and its added pairs. */
export interface RoundRow {
  readonly payload: number;
  readonly sender: string;
  readonly bitrate: string;
  readonly repetitions: number;
}

/**
 * One round of a --budget run: an `up` of its lab with `benchmark.round` set (round 1: the
 * stack's matrix, no round setting), its outputs saved to a file of their own.
 */
export interface SamplingRound {
  readonly round: number;
  /** Null for round 1 (the matrix as the stack file says). */
  readonly firstRepetition: number | null;
  readonly rows: readonly RoundRow[] | null;
  /** Relative to the output folder. */
  readonly outputFile: string;
  /** Pending: planned and recorded before its up, so a sweep killed during it runs the same round again. */
  phase: "pending" | "measured";
  /** The up's wall time and the cells it saved. */
  seconds: number | null;
  cells: number | null;
  /** The cells' own wall time (`wallSeconds`) summed, when every cell has it. */
  cellSeconds: number | null;
  /** The highest repetition (pair) number the round's cells used. */
  lastRepetition: number | null;
}

/** --budget, --precision, --max-samples as the sweep was started with them. */
export interface SamplingState {
  readonly precision: number;
  readonly budgetSeconds: number;
  readonly maxPerArm: number;
}

/** A stack that may be up on a host with nothing of the sweep depending on it: destroyed before that host takes another lab. */
export interface Leftover {
  readonly engineStack: string;
  /** The committed stack it was made from. */
  readonly stack: string;
  readonly host: string | null;
  reason: string;
  /**
   * Left by a sweep that was killed during the stack's update: the Pulumi CLI it ran may have
   * died holding the stack's lock, which nothing else holds (this sweep owns the output folder).
   */
  readonly killedDuringUpdate?: boolean;
}

export interface Shard {
  /** 1-based. */
  readonly index: number;
  readonly count: number;
}

export interface SweepState {
  readonly version: 2;
  readonly stacks: readonly string[];
  readonly samples: number;
  readonly shuffle: boolean;
  /** Seeds the shuffle; recorded so the order can be replayed and checked. */
  readonly seed: number;
  readonly runIdPrefix: string;
  readonly shard: Shard | null;
  readonly runs: SweepRun[];
  leftovers: Leftover[];
  /** --budget: absent for a sweep of --samples. */
  readonly sampling?: SamplingState;
}

/** A dot file, so `offload-lab report DIR` passes over it. */
export const STATE_FILE = ".sweep-state.json";

interface StateV1 {
  version: 1;
  stacks: string[];
  samples: number;
  shuffle: boolean;
  seed: number;
  runIdPrefix: string;
  runs: { sample: number; stack: string; runId: string; phase: RunPhase; outputFile: string; attempts: number; error: string | null }[];
}

/** A folder of an earlier offload-lab (one host, no shards) resumes as it was. */
function fromV1(s: StateV1): SweepState {
  return {
    version: 2,
    stacks: s.stacks,
    samples: s.samples,
    shuffle: s.shuffle,
    seed: s.seed,
    runIdPrefix: s.runIdPrefix,
    shard: null,
    runs: s.runs.map((r) => ({ ...r, host: null, startedAt: null, measuredAt: null, endedAt: null, active: false })),
    leftovers: [],
  };
}

export function readState(outDir: string): SweepState | null {
  const file = path.join(outDir, STATE_FILE);
  if (!fs.existsSync(file)) return null;
  const state = JSON.parse(fs.readFileSync(file, "utf8")) as SweepState | StateV1;
  if (state.version === 1 && Array.isArray(state.runs)) return fromV1(state);
  if (state.version !== 2 || !Array.isArray(state.runs)) throw new Error(`${file}: not a sweep state file this version understands`);
  return state;
}

/** Written to a temporary file and renamed, so an interrupted write never leaves half a state. */
export function writeState(outDir: string, state: SweepState): void {
  const file = path.join(outDir, STATE_FILE);
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2) + "\n");
  fs.renameSync(tmp, file);
}
