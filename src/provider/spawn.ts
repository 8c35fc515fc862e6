import { spawn } from "node:child_process";
import type { Logging } from "./inputs";

export interface Ran {
  readonly stdout: string;
  readonly stderr: string;
}

export interface SpawnSpec {
  readonly argv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly stdin?: string;
  readonly logging?: Logging;
  /** Where logged output lines go (the engine's log for this resource). */
  readonly log: (line: string) => void;
  /** The text named in the error, as @pulumi/command names the command it ran. */
  readonly describe: string;
}

/** A command that ran and failed; the message is the one @pulumi/command gives. */
export class CommandFailed extends Error {
  constructor(
    readonly exitCode: number | null,
    readonly signal: string | null,
    readonly output: string,
    describe: string,
  ) {
    super(`${signal !== null ? `signal: ${signal}` : `exit status ${exitCode}`}: running ${JSON.stringify(describe)}:\n${output}`);
  }
}

/** Process groups of the commands running now, so a cancelled update can stop them. */
const running = new Set<number>();

/**
 * Stops every running command. Pulumi asks for this on the first Ctrl-C: @pulumi/command
 * cancels the command's context, which kills it. Here the whole process group gets SIGTERM,
 * so a script's own cleanup (traps) still runs and nothing it started is orphaned.
 */
export function cancelAll(): void {
  for (const pgid of running) {
    try {
      process.kill(-pgid, "SIGTERM");
    } catch {
      /* already gone */
    }
  }
}

/**
 * Runs argv and collects its output. Fails like @pulumi/command: `exit status N: running "…":`
 * followed by stdout and stderr as they came. Outputs lose one trailing newline, as there.
 */
export function runProcess(spec: SpawnSpec): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(spec.argv[0]!, spec.argv.slice(1), {
      cwd: spec.cwd,
      env: spec.env,
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    if (child.pid !== undefined) running.add(child.pid);
    let stdout = "";
    let stderr = "";
    let both = "";
    const logStdout = spec.logging === undefined || spec.logging === "stdout" || spec.logging === "stdoutAndStderr";
    const logStderr = spec.logging === undefined || spec.logging === "stderr" || spec.logging === "stdoutAndStderr";
    const lineLogger = (enabled: boolean) => {
      let partial = "";
      return {
        push(chunk: string) {
          if (!enabled) return;
          const lines = (partial + chunk).split("\n");
          partial = lines.pop()!;
          for (const l of lines) spec.log(l);
        },
        flush() {
          if (enabled && partial !== "") spec.log(partial);
        },
      };
    };
    const outLog = lineLogger(logStdout);
    const errLog = lineLogger(logStderr);
    child.stdout.setEncoding("utf8").on("data", (c: string) => ((stdout += c), (both += c), outLog.push(c)));
    child.stderr.setEncoding("utf8").on("data", (c: string) => ((stderr += c), (both += c), errLog.push(c)));
    // A command that ignores stdin must not fail the run with EPIPE.
    child.stdin.on("error", () => undefined);
    child.stdin.end(spec.stdin ?? "");
    child.on("error", (e) => {
      if (child.pid !== undefined) running.delete(child.pid);
      reject(new Error(`${e.message}: running ${JSON.stringify(spec.describe)}`));
    });
    child.on("close", (code, signal) => {
      if (child.pid !== undefined) running.delete(child.pid);
      outLog.flush();
      errLog.flush();
      if (code === 0) {
        resolve({ stdout: stdout.replace(/\n$/, ""), stderr: stderr.replace(/\n$/, "") });
        return;
      }
      reject(new CommandFailed(code, signal, both, spec.describe));
    });
  });
}
