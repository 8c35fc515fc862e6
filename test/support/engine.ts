import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ensureCheckoutPassphrase } from "../../src/engine/passphrase";
import { backendKey, WORK_DIR } from "../../src/engine/workingCopy";

/**
 * Whether the real Pulumi CLI is on PATH (scripts/test.sh puts the pinned build there). Outside
 * CI its absence skips the engine tests with a reason; in CI (CI=true) it fails them.
 */
export function pulumiCli(): { ok: true; version: string } | { ok: false; reason: string } {
  try {
    const version = execFileSync("pulumi", ["version"], { encoding: "utf8", env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" } }).trim();
    return { ok: true, version };
  } catch (e) {
    const reason = `no Pulumi CLI on PATH (${(e as Error).message.split("\n")[0]}): PATH="$(bash scripts/pulumi-cli.sh):$PATH"`;
    if (process.env.CI === "true") throw new Error(`CI must run the engine tests: ${reason}`);
    return { ok: false, reason };
  }
}

/**
 * A state backend and PULUMI_HOME of the test's own, so a test never touches the user's stacks
 * in .offload-lab/state, and starts with an empty plugin cache: whatever plugin the engine runs
 * must come from the project, not from a download or an earlier install. The passphrase comes
 * from where every entry finds it (src/engine/passphrase.ts): the variables, else the checkout's
 * .offload-lab/passphrase, made here as the main job makes it when there is none.
 */
export function privateBackend(projectDir = path.resolve(__dirname, "..", "..")): { dir: string; home: string; url: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ol-engine-state-"));
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "ol-engine-home-"));
  const url = `file://${dir}`;
  process.env.PULUMI_BACKEND_URL = url;
  process.env.PULUMI_HOME = home;
  ensureCheckoutPassphrase(projectDir);
  return {
    dir,
    home,
    url,
    remove: () => {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(home, { recursive: true, force: true });
      // The working copies of this backend's stacks.
      fs.rmSync(path.join(projectDir, WORK_DIR, backendKey(url)), { recursive: true, force: true });
    },
  };
}

/** Every file under `dir`, concatenated: what a state backend holds. */
export function readTree(dir: string): string {
  let text = "";
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) text += fs.readFileSync(path.join(entry.parentPath, entry.name), "utf8");
  }
  return text;
}
