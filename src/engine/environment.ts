import * as fs from "node:fs";
import * as path from "node:path";

/** Where stacks' state lives unless PULUMI_BACKEND_URL says otherwise: inside the project, gitignored. */
export const STATE_DIR = path.join(".offload-lab", "state");

/**
 * The environment every Pulumi CLI call of offload-lab gets: a file backend in the project's
 * state folder (no Pulumi Cloud), and every download turned into an error (plugins, registry,
 * update check): the CLI is built from the Go module proxy and the `command` plugin is the
 * project's own, so nothing may be fetched at run time.
 */
export function engineEnvironment(projectDir: string, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_DISABLE_REGISTRY_RESOLVE: "true",
  };
  if (env.PULUMI_BACKEND_URL === undefined) {
    const dir = path.resolve(projectDir, STATE_DIR);
    fs.mkdirSync(dir, { recursive: true });
    out.PULUMI_BACKEND_URL = `file://${dir}`;
  }
  return out;
}

/** The passphrase secrets provider needs one of these; a clear message instead of the CLI's prompt failure. */
export function passphraseProblem(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.PULUMI_CONFIG_PASSPHRASE !== undefined || env.PULUMI_CONFIG_PASSPHRASE_FILE !== undefined) return null;
  return "set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE: stack secrets are encrypted with a passphrase (no Pulumi Cloud)";
}
