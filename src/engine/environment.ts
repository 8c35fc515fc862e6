import * as fs from "node:fs";
import * as path from "node:path";
import { ownerToken } from "./owner";

/** Where stacks' state lives unless PULUMI_BACKEND_URL says otherwise: inside the project, gitignored. */
export const STATE_DIR = path.join(".offload-lab", "state");

/** The state backend every engine call of this checkout uses. */
export function backendUrl(projectDir: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.PULUMI_BACKEND_URL ?? `file://${path.resolve(projectDir, STATE_DIR)}`;
}

/**
 * The environment every Pulumi CLI call of offload-lab gets: a file backend in the project's
 * state folder (no Pulumi Cloud), and every download turned into an error (plugins, registry,
 * update check): the CLI is built from the Go module proxy and the `command` plugin is the
 * project's own, so nothing may be fetched at run time. OFFLOAD_LAB_OWNER marks every process
 * the engine starts (the CLI, the provider, its ssh) with this process, so a run that finds
 * them left behind by a run killed hard can tell whose they are (src/sandbox/leftover.ts).
 */
export function engineEnvironment(projectDir: string, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_DISABLE_REGISTRY_RESOLVE: "true",
    OFFLOAD_LAB_OWNER: ownerToken(),
  };
  if (env.PULUMI_BACKEND_URL === undefined) {
    fs.mkdirSync(path.resolve(projectDir, STATE_DIR), { recursive: true });
    out.PULUMI_BACKEND_URL = backendUrl(projectDir, env);
  }
  return out;
}
