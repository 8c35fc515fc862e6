import { hostSettings, hostStackName, type LabHost } from "../hosts/pool";
import type { StackDoc } from "./workingCopy";

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
}

export const HOST_KEY = "offload-lab:hostSshPrivateKey";

export function engineStackName(target: StackTarget): string {
  return hostStackName(target.stack, target.host ?? null);
}

/**
 * The plain settings a target puts over the committed ones in the working copy. A pool or
 * sandbox host replaces the stack's connection; what the stack lets the lab do to a host's
 * firewall (`host.firewall`) is the stack's, and goes with it to that host.
 */
export function targetSettings(target: StackTarget, committed?: StackDoc): Record<string, unknown> {
  const host = target.host ? hostSettings(target.host) : {};
  const firewall = (committed?.config?.["offload-lab:host"] as { firewall?: unknown } | undefined)?.firewall;
  if (target.host && firewall !== undefined) {
    host["offload-lab:host"] = { ...(host["offload-lab:host"] as Record<string, unknown>), firewall };
  }
  return {
    ...host,
    ...(target.runId !== undefined ? { "offload-lab:benchmark.runId": target.runId } : {}),
  };
}

