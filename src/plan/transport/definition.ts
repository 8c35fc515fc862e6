import { body, type ScriptFile } from "../script/files";
import { bashAssignments } from "../script/hostScript";
import type { ScriptValue } from "../script/values";

/**
 * A transport's bash: its values as quoted assignments, then its static functions (a `.sh`
 * file beside the transport). Nothing of the target (a domain, an address) is ever written
 * outside a quoted value, not even into a comment.
 */
export function transportDefinition(file: ScriptFile, values: Readonly<Record<string, ScriptValue>>): string {
  return [
    `# guest_exec and guest_stop: ${file.source}, after the transport's values`,
    bashAssignments(values),
    body(file),
  ].join("\n");
}
