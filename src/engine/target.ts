import { hostSettings, hostStackName, type LabHost } from "../hosts/pool";

// What names and settings a run's engine stack gets, without the Pulumi SDK: the CLI checks a
// target before anything loads the engine.

/** What the engine runs: a committed stack, on its own host or on a pool or sandbox host, with this run's settings. */
export interface StackTarget {
  /** The committed stack: stacks/Pulumi.<stack>.yaml. */
  readonly stack: string;
  /** The host the lab goes to instead of the one in the stack file; the engine stack is then `<stack>.<host>`. */
  readonly host?: LabHost | null;
  /** offload-lab:benchmark.runId for this run (a new one re-runs the matrix). */
  readonly runId?: string;
  /**
   * offload-lab:benchmark.round: a round of `sweep --budget`, the matrix narrowed to these rows
   * with their own repetitions; among the benchmark step's triggers only, so it re-runs that step alone.
   */
  readonly round?: BenchmarkRound;
}

export interface BenchmarkRound {
  readonly firstRepetition: number;
  readonly rows: ReadonlyArray<{ readonly payload: number; readonly sender: string; readonly bitrate: string; readonly repetitions: number }>;
}

export const HOST_KEY = "offload-lab:hostSshPrivateKey";

export function engineStackName(target: StackTarget): string {
  return hostStackName(target.stack, target.host ?? null);
}

/** The plain settings a target puts over the committed ones in the working copy. */
export function targetSettings(target: StackTarget): Record<string, unknown> {
  return {
    ...(target.host ? hostSettings(target.host) : {}),
    ...(target.runId !== undefined ? { "offload-lab:benchmark.runId": target.runId } : {}),
    ...(target.round !== undefined ? { "offload-lab:benchmark.round": { firstRepetition: target.round.firstRepetition, rows: target.round.rows.map((r) => ({ ...r })) } } : {}),
  };
}

