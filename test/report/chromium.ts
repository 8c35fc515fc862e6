import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const CHROMIUM = "/usr/bin/chromium";
export const haveChromium = fs.existsSync(CHROMIUM);

export interface PageRun {
  readonly stderr: string;
  readonly stdout: string;
  /** Every console message the page produced (Chromium logs them all as `CONSOLE`). */
  readonly console: string[];
}

/**
 * Runs headless Chromium on a local file with no network features. Chromium logs page console
 * messages to stderr as `INFO:CONSOLE...`: the page is meant to log nothing, so any is a failure.
 */
export function runChromium(file: string, extra: readonly string[]): PageRun {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "offload-lab-chromium-"));
  try {
    const r = spawnSync(CHROMIUM, [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      `--user-data-dir=${profile}`, "--enable-logging=stderr", "--v=0", ...extra, `file://${file}`,
    ], { encoding: "utf8", timeout: 90_000, maxBuffer: 64 * 1024 * 1024 });
    if (r.error) throw r.error;
    const console = r.stderr.split("\n").filter((l) => /:CONSOLE[:(]/.test(l));
    return { stderr: r.stderr, stdout: r.stdout, console };
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}
