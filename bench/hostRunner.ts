import { spawn } from "node:child_process";

export interface HostRun {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number | null;
}

/**
 * Runs a bash script the way a KVM host would: `prefix` puts it in the test's namespaces
 * (e.g. `nsenter -t PID -n -m`). Asynchronous, so long steps do not block the test runner.
 */
export function runOnHost(prefix: readonly string[], script: string, env: Record<string, string> = {}): Promise<HostRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(prefix[0]!, [...prefix.slice(1), "bash", "-c", script], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code) => resolve({ stdout, stderr, code }));
  });
}
