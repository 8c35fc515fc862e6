/**
 * The few Automation API calls a sweep makes, behind an interface: the real one drives the Pulumi
 * CLI (src/sweep/automation.ts), tests drive a fake.
 */
export interface SweepStack {
  readonly name: string;
  /** The stack's `offload-lab:benchmark.runId`; undefined when the stack file does not set it. */
  getRunId(): Promise<string | undefined>;
  /** Sets `offload-lab:benchmark.runId`, or removes it when undefined. */
  setRunId(runId: string | undefined): Promise<void>;
  up(onOutput: (text: string) => void): Promise<void>;
  /** Plain values, as `pulumi stack output --json` prints them (secrets masked). */
  outputs(): Promise<Record<string, unknown>>;
  destroy(onOutput: (text: string) => void): Promise<void>;
}

export interface SweepWorkspace {
  selectStack(name: string): Promise<SweepStack>;
}
