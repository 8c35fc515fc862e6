import type { BenchmarkRound } from "../engine/target";
import type { LabHost } from "../hosts/pool";

/** What the engine says while it works on a stack: its text for the log, its steps for the progress line. */
export interface EngineListener {
  output(text: string): void;
  /** A resource step began or ended (`step` is the last part of its URN). */
  step(step: string, status: "running" | "done" | "failed"): void;
}

/** One run's stack: a committed stack on its own host, or on a pool host as `<stack>.<host>`. */
export interface SweepTarget {
  readonly stack: string;
  readonly host: LabHost | null;
  /** offload-lab:benchmark.runId; absent for a destroy (what is set then does not matter). */
  readonly runId?: string;
  /** sweep --budget: the round the `up` runs (offload-lab:benchmark.round); absent: the stack's matrix. */
  readonly round?: BenchmarkRound;
}

export interface SweepStack {
  /** The engine's stack name. */
  readonly name: string;
  up(listener: EngineListener): Promise<void>;
  /** Plain values, as `pulumi stack output --json` prints them (secrets masked). */
  outputs(): Promise<Record<string, unknown>>;
  destroy(listener: EngineListener): Promise<void>;
  /** Drops a lock on the stack left by a Pulumi CLI that was killed (`pulumi cancel`). */
  unlock(): Promise<void>;
}

/**
 * The few Automation API calls a sweep makes, behind an interface: the real one drives the Pulumi
 * CLI (src/sweep/automation.ts), tests drive a fake. Stacks of different hosts are used
 * concurrently, each through its own workspace.
 */
export interface SweepWorkspace {
  select(target: SweepTarget): Promise<SweepStack>;
  /**
   * Whether a host can take labs now: null when it answers over SSH and its libvirtd answers;
   * otherwise why not ("unreachable: …", "libvirtd does not answer: …").
   */
  probe(host: LabHost, stack: string): Promise<string | null>;
}
