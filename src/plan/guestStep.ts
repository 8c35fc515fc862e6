import { createHash } from "node:crypto";
import { sh } from "./quote";
import { body, scriptFile } from "./script/files";
import { bashAssignments } from "./script/hostScript";
import type { GuestScript, Step } from "./step";
import type { Transport } from "./transport/transport";

const ROUND_TRIP = scriptFile(`${__dirname}/transport`, "round-trip.sh");

/** What a round-trip script prints: one line, the same for sh and PowerShell. */
export const ROUND_TRIP_LINE = "offload-lab round trip: stdin in, stdout out";

/** The one-line script in the guest's language that prints ROUND_TRIP_LINE. */
export function roundTripScript(language: GuestScript["language"]): string {
  return language === "ps1" ? `[Console]::Out.WriteLine('${ROUND_TRIP_LINE}')\n` : `echo '${ROUND_TRIP_LINE}'\n`;
}

const heredoc = (name: string, text: string): string => {
  const delimiter = `OFFLOAD_LAB_${name}_${createHash("sha256").update(text).digest("hex").slice(0, 16)}`;
  return `<<'${delimiter}'\n${text.endsWith("\n") ? text : `${text}\n`}${delimiter}`;
};

/**
 * The host bash of a first guest step's round trip: a one-line script in, its line out,
 * before anything else is run through the transport (round-trip.sh says what it proves and
 * what to do when it fails).
 */
function roundTripCommand(transport: Transport, language: GuestScript["language"]): string {
  return `${bashAssignments({ OL_TRANSPORT: transport.description })}
${body(ROUND_TRIP)}
ol_round_trip ${sh(ROUND_TRIP_LINE)} ${heredoc("ROUND_TRIP", roundTripScript(language))}`;
}

/**
 * The host bash of one guest step: the transport's `guest_exec` fed the guest script through
 * a quoted heredoc, so nothing in the script is expanded by the host. The delimiter carries
 * the script's hash and so cannot be one of its lines.
 */
export function guestStepCommand(transport: Transport, guestScript: string, roundTrip?: GuestScript["language"]): string {
  const delimiter = `OFFLOAD_LAB_GUEST_SCRIPT_${createHash("sha256").update(guestScript).digest("hex").slice(0, 16)}`;
  const text = guestScript.endsWith("\n") ? guestScript : `${guestScript}\n`;
  return `set -euo pipefail
${transport.functionDefinition}
${roundTrip === undefined ? "" : `${roundTripCommand(transport, roundTrip)}\n`}guest_exec <<'${delimiter}'
${text}${delimiter}
`;
}

export type GuestStepSpec<Out> = Omit<Step<Out>, "runsOn" | "create" | "delete" | "guest" | "secretEnv"> & {
  readonly guest: GuestScript;
  /** The first guest step: prove the transport's round trip (round-trip.sh) before the script. */
  readonly roundTripFirst?: boolean;
};

/**
 * A step that runs in the guest: its create is the host bash that carries the guest script
 * through the transport, with whatever secrets that transport needs. The step never knows
 * which transport it is.
 */
export function guestStep<Out>(transport: Transport, spec: GuestStepSpec<Out>): Step<Out> {
  const { roundTripFirst, ...step } = spec;
  return {
    ...step,
    runsOn: "guest",
    create: guestStepCommand(transport, spec.guest.script, roundTripFirst === true ? spec.guest.language : undefined),
    secretEnv: transport.secretEnv,
  };
}
