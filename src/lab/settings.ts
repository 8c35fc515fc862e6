import * as pulumi from "@pulumi/pulumi";
import { labSchema } from "../config/schema";
import { SecretValue } from "../config/secret";
import { NAMESPACE, type RawSettings } from "../config/validate";

// The engine tells which keys were given as secrets through this runtime function, present
// in @pulumi/pulumi's JavaScript but marked internal in its typings.
const isConfigSecret = (pulumi.runtime as unknown as { isConfigSecret: (key: string) => boolean }).isConfigSecret;

/**
 * The stack's `offload-lab:` settings as the engine hands them over. Structured values arrive
 * as JSON text; a key the engine marks secret becomes a SecretValue, so validation can refuse
 * a secret given in plain text. Secret values themselves are read later, as Outputs.
 */
export function settingsFromPulumi(): RawSettings {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(labSchema.shape)) {
    const full = `${NAMESPACE}:${key}`;
    const text = pulumi.runtime.getConfig(full);
    if (text === undefined) continue;
    if (isConfigSecret(full)) {
      out[key] = new SecretValue(full);
      continue;
    }
    try {
      out[key] = JSON.parse(text);
    } catch {
      out[key] = text;
    }
  }
  return out;
}
