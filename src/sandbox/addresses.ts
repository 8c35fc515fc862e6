import { run } from "./netns";

/**
 * Where sandbox hosts live on this machine. Slot k has 10.203.77.4k/30: the sandbox is .4k+2,
 * the root namespace's end of its veth .4k+1; the /30 exists only on that veth pair.
 */
export const SANDBOX_NET = "10.203.77";
export const SANDBOX_PORT = 22;
/** Slots that fit in 10.203.77.0/24. */
export const SANDBOX_SLOTS = 64;
export const NAMESPACE_PREFIX = "olsandbox";

export function sandboxAddresses(slot: number): { sandbox: string; peer: string } {
  if (!Number.isInteger(slot) || slot < 0 || slot >= SANDBOX_SLOTS) throw new Error(`sandbox slot ${slot}: must be 0..${SANDBOX_SLOTS - 1}`);
  return { peer: `${SANDBOX_NET}.${4 * slot + 1}`, sandbox: `${SANDBOX_NET}.${4 * slot + 2}` };
}

/** The name a sandbox host has as a lab host: in its stacks' names (`sandbox-uso-off.sandbox-0`) and outputs. */
export function sandboxHostName(slot: number): string {
  return `sandbox-${slot}`;
}

/** The root-namespace end of a sandbox's veth, named after its namespace so each names the other. */
export function rootVethOf(namespace: string): string {
  return `olsb${namespace.slice(-4)}`;
}

/** The root-namespace link that holds an address, or null when none does. */
export function addressHolder(address: string): string | null {
  const line = run("ip", ["-o", "addr", "show", "to", `${address}/32`]).trim();
  return line === "" ? null : line.split(/\s+/)[1]!.split("@")[0]!;
}
