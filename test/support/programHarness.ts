import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { vi } from "vitest";

export const PROJECT_DIR = path.resolve(__dirname, "..", "..");

/** What the mocks saw of one registered resource. */
export interface Registered {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
}

/** Runs a resource for real (or replays it) and returns its stdout. */
export type Executor = (resource: Registered) => Promise<string> | string;

export interface StackConfig {
  readonly config: Record<string, string>;
  readonly secretKeys: string[];
}

/** A stack file as the engine would pass it: JSON text per key, secrets decrypted to `values`. */
export function stackConfig(stack: string, secretValues: Record<string, string> = {}): StackConfig {
  const doc = parse(fs.readFileSync(path.join(PROJECT_DIR, "stacks", `Pulumi.${stack}.yaml`), "utf8")) as {
    config?: Record<string, unknown>;
  };
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(doc.config ?? {})) {
    if (value !== null && typeof value === "object" && "secure" in value) {
      config[key] = secretValues[key] ?? `secret value of ${key}`;
      secretKeys.push(key);
    } else {
      config[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
  }
  return { config, secretKeys };
}

/** Pulumi's marker for a secret value crossing the mock monitor. */
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export function unwrapSecrets(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(unwrapSecrets);
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (o["4dabf18193072939515e22adb298388d"] === SECRET_SIG) return unwrapSecrets(o.value);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrapSecrets(x)]));
  }
  return v;
}

export interface ProgramRun {
  readonly outputs: Record<string, unknown>;
  /** Which outputs Pulumi holds as secrets. */
  readonly secretOutputs: string[];
  readonly resources: Registered[];
}

async function settle(value: unknown): Promise<{ value: unknown; secret: boolean }> {
  if (!pulumi.Output.isInstance(value)) return { value, secret: false };
  const out = value as pulumi.Output<unknown>;
  const secret = await pulumi.isSecret(out);
  const resolved = await (out as unknown as { promise(): Promise<unknown> }).promise();
  return { value: resolved, secret };
}

/**
 * Loads src/index.ts under pulumi.runtime.setMocks with the given stack's config, the way
 * `pulumi up` would, and resolves every exported output; or, as "preview", registers the
 * resources without running any command and resolves nothing.
 */
export async function runProgram(stack: string, cfg: StackConfig, execute: Executor | "preview"): Promise<ProgramRun> {
  const preview = execute === "preview";
  const resources: Registered[] = [];
  // A failed step fails the run at once: outputs that depend on it would never resolve.
  let fail: (e: unknown) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined);
  pulumi.runtime.setAllConfig(cfg.config, cfg.secretKeys);
  await pulumi.runtime.setMocks(
    {
      newResource: async (args) => {
        const r: Registered = { type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown> };
        resources.push(r);
        const isCommand = args.type === "command:local:Command" || args.type === "command:remote:Command";
        // In a preview a command has not run: its stdout stays unknown, as with the engine.
        if (preview || !isCommand) return { id: `${args.name}-id`, state: { ...args.inputs } };
        try {
          return { id: `${args.name}-id`, state: { ...args.inputs, stdout: await execute(r), stderr: "" } };
        } catch (e) {
          fail(e);
          throw e;
        }
      },
      call: () => ({}),
    },
    "offload-lab",
    stack,
    preview,
  );
  try {
    vi.resetModules();
    const mod = (await import("../../src/index")) as Record<string, unknown>;
    const outputs: Record<string, unknown> = {};
    const secretOutputs: string[] = [];
    if (!preview) {
      // Settle every output, so that one failing read-back does not leave others unobserved.
      const entries = Object.entries(mod);
      const settled = await Promise.allSettled(entries.map(([, v]) => Promise.race([settle(v), failed])));
      const rejected = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (rejected !== undefined) throw rejected.reason;
      settled.forEach((r, i) => {
        const s = (r as PromiseFulfilledResult<{ value: unknown; secret: boolean }>).value;
        outputs[entries[i]![0]] = s.value;
        if (s.secret) secretOutputs.push(entries[i]![0]);
      });
    }
    return { outputs, secretOutputs, resources };
  } finally {
    await pulumi.runtime.disconnect();
  }
}
