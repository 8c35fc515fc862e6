import { hostSettings, hostStackName, type GuestKeyPair, type LabHost } from "../hosts/pool";
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
/** The secret the ssh transport logs in to the guest with (src/plan/transport/ssh.ts). */
export const GUEST_KEY = "offload-lab:guestSshPrivateKey";
/** Where the guest's public key goes: the domain hands it a Linux guest at boot (src/plan/guest-domain/domainXml.ts). */
export const GUEST_AUTHORIZED_KEY = "offload-lab:guest.ssh.authorizedKey";

export function engineStackName(target: StackTarget): string {
  return hostStackName(target.stack, target.host ?? null);
}

/**
 * The guest key pair the target's host lends this stack: only a host that has one (a sandbox),
 * only to a stack whose Linux guest it reaches over SSH. A stack that names its own
 * authorizedKey keeps it (and its own guestSshPrivateKey): the committed settings win.
 */
export function lentGuestKey(target: StackTarget, committed: StackDoc): GuestKeyPair | null {
  const key = target.host?.guestKey;
  const guest = committed.config?.["offload-lab:guest"] as { os?: unknown; access?: unknown; ssh?: { authorizedKey?: unknown } } | undefined;
  if (key === undefined || guest?.access !== "ssh" || guest.os !== "linux" || guest.ssh?.authorizedKey !== undefined) return null;
  return key;
}

/**
 * The plain settings a target puts over the committed ones in the working copy; the secrets
 * (the host's key, a lent guest key's private half) the engine encrypts in separately. A pool
 * or sandbox host replaces the stack's connection; what the stack lets the lab do to a host's
 * firewall (`host.firewall`) is the stack's, and goes with it to that host.
 */
export function targetSettings(target: StackTarget, committed: StackDoc = {}): Record<string, unknown> {
  const guestKey = lentGuestKey(target, committed);
  const host = target.host ? hostSettings(target.host) : {};
  const firewall = (committed.config?.["offload-lab:host"] as { firewall?: unknown } | undefined)?.firewall;
  if (target.host && firewall !== undefined) {
    host["offload-lab:host"] = { ...(host["offload-lab:host"] as Record<string, unknown>), firewall };
  }
  return {
    ...host,
    ...(guestKey !== null ? { [GUEST_AUTHORIZED_KEY]: guestKey.publicKey } : {}),
    ...(target.runId !== undefined ? { "offload-lab:benchmark.runId": target.runId } : {}),
    ...(target.round !== undefined ? { "offload-lab:benchmark.round": { firstRepetition: target.round.firstRepetition, rows: target.round.rows.map((r) => ({ ...r })) } } : {}),
  };
}

