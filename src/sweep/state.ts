import * as fs from "node:fs";
import * as path from "node:path";

/**
 * pending: not measured yet (or its `up` failed); measured: outputs saved, destroy still owed;
 * done: outputs saved and destroyed (or kept with --keep).
 */
export type RunPhase = "pending" | "measured" | "done";

export interface SweepRun {
  readonly sample: number;
  readonly stack: string;
  readonly runId: string;
  phase: RunPhase;
  /** Relative to the output folder. */
  readonly outputFile: string;
  attempts: number;
  error: string | null;
}

export interface SweepState {
  readonly version: 1;
  readonly stacks: readonly string[];
  readonly samples: number;
  readonly shuffle: boolean;
  /** Seeds the shuffle; recorded so the order can be replayed and checked. */
  readonly seed: number;
  readonly runIdPrefix: string;
  /** Each stack's own runId before the sweep first changed it (null: unset), restored after every run. */
  readonly originalRunIds: Record<string, string | null>;
  readonly runs: SweepRun[];
}

/** A dot file, so `offload-lab report DIR` passes over it. */
export const STATE_FILE = ".sweep-state.json";

export function readState(outDir: string): SweepState | null {
  const file = path.join(outDir, STATE_FILE);
  if (!fs.existsSync(file)) return null;
  const state = JSON.parse(fs.readFileSync(file, "utf8")) as SweepState;
  if (state.version !== 1 || !Array.isArray(state.runs)) throw new Error(`${file}: not a sweep state file this version understands`);
  return state;
}

/** Written to a temporary file and renamed, so an interrupted write never leaves half a state. */
export function writeState(outDir: string, state: SweepState): void {
  const file = path.join(outDir, STATE_FILE);
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2) + "\n");
  fs.renameSync(tmp, file);
}
