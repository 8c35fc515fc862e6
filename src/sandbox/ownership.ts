import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { isRunning } from "../engine/owner";
import { OwnerLock, type OwnerRecord } from "../engine/ownerLock";
import { addressHolder, NAMESPACE_PREFIX, rootVethOf, sandboxAddresses } from "./addresses";
import { removeSandboxLeftover, type SandboxParts } from "./leftover";
import { run } from "./netns";

/** Slot locks and records: in /run, so a reboot, which ends every sandbox, forgets them too. */
export const SLOT_DIR = "/run/offload-lab";

/**
 * The slot a sandbox wants is owned by a process that is still running. Not a fault of
 * offload-lab: the CLI prints it as a user error (exit 2).
 */
export class SandboxBusyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SandboxBusyError";
  }
}

/** A slot held by this process: what it records, and giving it back. */
export interface SandboxSlot {
  readonly slot: number;
  /** Records the parts before they are made: a crash at any point leaves a complete list. */
  record(parts: Omit<SandboxParts, "slot">): void;
  /** Removes every recorded part still there (a start that failed half-way). */
  removeRecorded(): string[];
  release(): void;
}

function describeOwner(holder: OwnerRecord): string {
  return `pid ${holder.owner.pid} (${holder.command}), since ${holder.since}`;
}

async function acquireSlot(slot: number): Promise<{ lock: OwnerLock; previous: OwnerRecord | null }> {
  const file = path.join(SLOT_DIR, `sandbox-${slot}`);
  // A dead owner's lock helper may take a moment to see its pipe close: ask again briefly.
  const until = Date.now() + 3_000;
  for (;;) {
    const got = await OwnerLock.acquire(file);
    if ("lock" in got) return got;
    const holder = got.holder;
    const alive = holder === null || isRunning(holder.owner);
    if (alive && Date.now() > until) {
      throw new SandboxBusyError(
        `sandbox slot ${slot} is in use by a running offload-lab` +
          (holder !== null ? `: ${describeOwner(holder)}` : "") +
          `; wait for it to end, or stop it (kill ${holder?.owner.pid ?? "its pid"}): the next run removes what it leaves`,
      );
    }
    execFileSync("sleep", ["0.2"]);
  }
}

/**
 * Takes sandbox slot `slot` for this process. What a dead owner left in it (its record lists the
 * namespace, veth, libvirtd folder, and its pid for the engine processes it started) is removed,
 * and `log` says what was removed. A link that holds the slot's address without a record (a
 * sandbox of a version before slots were owned) is removed when it is a sandbox's veth; any
 * other holder of the address is refused.
 */
export async function claimSlot(slot: number, log: (line: string) => void): Promise<SandboxSlot> {
  const { lock, previous } = await acquireSlot(slot);
  try {
    if (previous !== null) {
      const parts = previous as unknown as SandboxParts;
      const removed = removeSandboxLeftover(parts, previous.owner);
      log(
        `sandbox slot ${slot}: its last owner (${describeOwner(previous)}) is no longer running; ` +
          (removed.length > 0 ? `removed what it left: ${removed.join("; ")}` : "it left nothing behind"),
      );
    }
    const peer = sandboxAddresses(slot).peer;
    const holder = addressHolder(peer);
    if (holder !== null) {
      const namespace = run("ip", ["netns", "list"]).split("\n").map((l) => l.split(" ")[0]!)
        .find((n) => n.startsWith(`${NAMESPACE_PREFIX}-`) && rootVethOf(n) === holder);
      if (!/^olsb/.test(holder)) {
        throw new SandboxBusyError(`sandbox slot ${slot}: ${peer} is on link ${holder}, which is not a sandbox's; remove that address or use another slot`);
      }
      const removed = removeSandboxLeftover({ slot, namespace, veth: holder }, null);
      log(`sandbox slot ${slot}: ${peer} was held by a sandbox no run owns; removed ${removed.join("; ")}`);
    }
  } catch (e) {
    lock.release();
    throw e;
  }
  let parts: SandboxParts = { slot };
  lock.write({ ...parts });
  return {
    slot,
    record(more) {
      parts = { ...parts, ...more, slot };
      lock.write({ ...parts });
    },
    removeRecorded() {
      // No owner token: this process's other engine processes (another sandbox's runs) carry it too.
      return removeSandboxLeftover(parts, null);
    },
    release() {
      lock.release();
    },
  };
}
