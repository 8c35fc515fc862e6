import { body, scriptFile, type ScriptFile } from "./files";
import { sh } from "../quote";
import { checkedName, type Scalar } from "./values";

const GUEST_LIB = scriptFile(__dirname, "guest-lib.sh");

export interface GuestShSpec {
  readonly step: string;
  /** The static body, a POSIX sh file of the step's folder. */
  readonly file: ScriptFile;
  /** POSIX sh files the body relies on (src/plan/guest/linux-interface.sh), run after the values. */
  readonly libraries?: readonly ScriptFile[];
  /** NAME → value, bound before the body. POSIX sh has no arrays: lists travel as lines. */
  readonly values: Readonly<Record<string, Scalar>>;
}

/**
 * A Linux guest step's script, run by `/bin/sh -s` in the guest: the stack's values as quoted
 * assignments, the guest's JSON functions (src/plan/script/guest-lib.sh), the step's
 * libraries, then the body.
 * `set -u` only: a guest step reports what it found before it decides, so it must not stop at
 * the first failing command.
 */
export function guestShScript(spec: GuestShSpec): string {
  const values = Object.entries(spec.values).map(([name, value]) => `${checkedName(name)}=${sh(value)}`);
  return [
    `# offload-lab ${spec.step} (Linux guest): ${spec.file.source}, after the stack's values`,
    "set -u",
    ...values,
    body(GUEST_LIB),
    ...(spec.libraries ?? []).map(body),
    body(spec.file),
  ].join("\n") + "\n";
}
