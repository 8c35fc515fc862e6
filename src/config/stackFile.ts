import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument, YAMLError } from "yaml";
import { StackFileError } from "./errors";
import { SecretValue } from "./secret";
import { NAMESPACE, type RawSettings, validateLab } from "./validate";
import type { LabConfig } from "./model";

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

const WHAT_A_STACK_NEEDS = `a stack needs at least ${NAMESPACE}:guest with os, name and baseImage (see the README's config reference and the files in stacks/)`;

/**
 * Reads the `offload-lab:` settings of a stack file the way the Pulumi engine would hand
 * them to the program, without the engine: `secure:` values become SecretValue markers
 * (their ciphertext cannot be opened here, and the plan never needs it). A file that holds
 * no settings to check (empty, no `config:` map, no `offload-lab:` key) is refused as a
 * whole, saying so, rather than as a missing guest. `file` names it in messages.
 */
export function settingsFromStackYaml(text: string, file = "the stack file"): RawSettings {
  // The first line of the library's message: what and where (the next lines quote the file).
  const invalid = (why: string) => new StackFileError(`${file}: not valid YAML: ${why.split("\n")[0]!.replace(/:$/, "")}`);
  // A warning (an unknown tag such as `!secret`) would change what the file means: refused too.
  const parsed = parseDocument(text, { logLevel: "silent" });
  const problem = parsed.errors[0] ?? parsed.warnings[0];
  if (problem !== undefined) throw invalid(problem.message);
  let doc: unknown;
  try {
    doc = parsed.toJS();
  } catch (e) {
    // The yaml library refuses an alias bomb ("billion laughs") with a ReferenceError.
    if (e instanceof ReferenceError || e instanceof YAMLError) throw invalid(e.message);
    throw e;
  }
  if (doc === null || doc === undefined) throw new StackFileError(`${file} is empty: ${WHAT_A_STACK_NEEDS}`);
  const config = isMap(doc) ? doc.config : undefined;
  if (!isMap(config)) {
    throw new StackFileError(`${file} has no config: map (a stack file is YAML with the settings under config:); ${WHAT_A_STACK_NEEDS}`);
  }
  const out: Record<string, unknown> = {};
  for (const [fullKey, value] of Object.entries(config)) {
    const [ns, key] = fullKey.includes(":") ? fullKey.split(/:(.*)/s, 2) : [NAMESPACE, fullKey];
    if (ns !== NAMESPACE || key === undefined) continue;
    const isSecure = value !== null && typeof value === "object" && "secure" in value;
    out[key] = isSecure ? new SecretValue(`${NAMESPACE}:${key}`) : value;
  }
  if (Object.keys(out).length === 0) throw new StackFileError(`${file} has no ${NAMESPACE}: settings under config:; ${WHAT_A_STACK_NEEDS}`);
  return out;
}

/**
 * A stack file is YAML text: a NUL or another control character YAML does not allow (all but
 * tab, newline, carriage return), or bytes that are not UTF-8, mean a binary file. It is
 * refused by the first such byte's value and offset; its content is never echoed.
 */
export function stackFileText(bytes: Buffer, file: string): string {
  const control = bytes.findIndex((b) => (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b === 0x7f);
  let text: string | undefined;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    text = undefined;
  }
  if (control >= 0 || text === undefined) {
    const why = control >= 0 ? `byte 0x${bytes[control]!.toString(16).padStart(2, "0")} at offset ${control}` : "bytes that are not UTF-8";
    throw new StackFileError(`${file}: not a text file (${why}); a stack file is YAML text`);
  }
  return text;
}

export function stackFilePath(projectDir: string, stack: string): string {
  return path.join(projectDir, "stacks", `Pulumi.${stack}.yaml`);
}

export function listStacks(projectDir: string): string[] {
  return fs
    .readdirSync(path.join(projectDir, "stacks"))
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

export function loadStack(projectDir: string, stack: string): LabConfig {
  const file = stackFilePath(projectDir, stack);
  const relative = path.relative(process.cwd(), file);
  const shown = relative !== "" && !relative.startsWith("..") ? relative : file;
  return validateLab(stack, settingsFromStackYaml(stackFileText(fs.readFileSync(file), shown), shown));
}
