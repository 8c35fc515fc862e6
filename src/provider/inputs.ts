import { z } from "zod";
import type { CheckFailure } from "@pulumi/pulumi/provider";

// The inputs of `command:local:Command` and `command:remote:Command` (as in @pulumi/command
// 1.2.1) that this provider implements. An input outside that subset is refused at check time,
// before anything runs, rather than silently ignored.

const logging = z.enum(["stdout", "stderr", "stdoutAndStderr", "none"]);

const common = {
  create: z.string().optional(),
  update: z.string().optional(),
  delete: z.string().optional(),
  stdin: z.string().optional(),
  triggers: z.array(z.unknown()).optional(),
  addPreviousOutputInEnv: z.boolean().optional(),
  logging: logging.optional(),
};

export const localInputs = z.strictObject({
  ...common,
  interpreter: z.array(z.string()).min(1).optional(),
  dir: z.string().optional(),
  environment: z.record(z.string(), z.string()).optional(),
});
export type LocalInputs = z.infer<typeof localInputs>;

const hop = {
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).optional(),
  user: z.string().min(1).optional(),
  privateKey: z.string().optional(),
  perDialTimeout: z.number().int().min(0).optional(),
  dialErrorLimit: z.number().int().min(-1).optional(),
};
export const proxyConnection = z.strictObject(hop);
export const connection = z.strictObject({ ...hop, proxy: proxyConnection.optional() });
export type Connection = z.infer<typeof connection>;
export type ProxyConnection = z.infer<typeof proxyConnection>;

export const remoteInputs = z.strictObject({ ...common, connection });
export type RemoteInputs = z.infer<typeof remoteInputs>;

export type Logging = z.infer<typeof logging>;

export const LOCAL = "command:local:Command";
export const REMOTE = "command:remote:Command";

/** Zod issues as the engine's check failures: the property path and why. */
export function failures(error: z.ZodError): CheckFailure[] {
  return error.issues.map((i) => ({
    property: i.path.join(".") || "(inputs)",
    reason:
      i.code === "unrecognized_keys"
        ? `${i.keys.join(", ")}: not supported by offload-lab's command provider (it implements the inputs the lab uses)`
        : i.message,
  }));
}
