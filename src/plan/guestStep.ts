import { createHash } from "node:crypto";
import type { GuestScript, Step } from "./step";
import type { Transport } from "./transport/transport";

/**
 * The host bash of one guest step: the transport's `guest_exec` fed the guest script through
 * a quoted heredoc, so nothing in the script is expanded by the host. The delimiter carries
 * the script's hash and so cannot be one of its lines.
 */
export function guestStepCommand(transport: Transport, guestScript: string): string {
  const delimiter = `OFFLOAD_LAB_GUEST_SCRIPT_${createHash("sha256").update(guestScript).digest("hex").slice(0, 16)}`;
  const text = guestScript.endsWith("\n") ? guestScript : `${guestScript}\n`;
  return `set -euo pipefail
${transport.functionDefinition}
guest_exec <<'${delimiter}'
${text}${delimiter}
`;
}

export type GuestStepSpec<Out> = Omit<Step<Out>, "runsOn" | "create" | "delete" | "guest" | "secretEnv"> & {
  readonly guest: GuestScript;
};

/**
 * A step that runs in the guest: its create is the host bash that carries the guest script
 * through the transport, with whatever secrets that transport needs. The step never knows
 * which transport it is.
 */
export function guestStep<Out>(transport: Transport, spec: GuestStepSpec<Out>): Step<Out> {
  return {
    ...spec,
    runsOn: "guest",
    create: guestStepCommand(transport, spec.guest.script),
    secretEnv: transport.secretEnv,
  };
}
