import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { SecretValue } from "./secret";
import { NAMESPACE, type RawSettings, validateLab } from "./validate";
import type { LabConfig } from "./model";

/**
 * Reads the `offload-lab:` settings of a stack file the way the Pulumi engine would hand
 * them to the program, without the engine: `secure:` values become SecretValue markers
 * (their ciphertext cannot be opened here, and the plan never needs it).
 */
export function settingsFromStackYaml(text: string): RawSettings {
  const doc = (parse(text) ?? {}) as { config?: Record<string, unknown> };
  const out: Record<string, unknown> = {};
  for (const [fullKey, value] of Object.entries(doc.config ?? {})) {
    const [ns, key] = fullKey.includes(":") ? fullKey.split(/:(.*)/s, 2) : [NAMESPACE, fullKey];
    if (ns !== NAMESPACE || key === undefined) continue;
    const isSecure = value !== null && typeof value === "object" && "secure" in value;
    out[key] = isSecure ? new SecretValue(`${NAMESPACE}:${key}`) : value;
  }
  return out;
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
  return validateLab(stack, settingsFromStackYaml(fs.readFileSync(file, "utf8")));
}
