import * as path from "node:path";
import { passphraseProblem } from "../engine/environment";
import { startSandbox } from "../sandbox/session";
import { runSweep, stackListProblem } from "../sweep/run";
import type { SweepWorkspace } from "../sweep/workspace";
import type { CommandIo } from "./io";
import type { Progress } from "./progress";

export interface SweepArgs {
  readonly stacks: string;
  readonly out: string;
  readonly samples: number;
  readonly shuffle: boolean;
  readonly seed?: number;
  readonly keep: boolean;
  readonly failIf: string[];
  readonly sandbox: boolean;
}

/**
 * `sweep`: the sweep's own lines (run i of n, stack, phase) and the engine's output go through
 * `progress`, which stamps the elapsed time or, under --quiet, drops them. With --sandbox the
 * sandbox KVM host is up for the whole sweep and removed at the end, whatever happens.
 */
export async function sweepCommand(
  args: SweepArgs,
  projectDir: string,
  workspace: (signal: AbortSignal) => SweepWorkspace,
  io: CommandIo,
  progress: Progress,
  /** The real Automation API needs the secrets passphrase; a test's fake workspace does not. */
  realEngine = true,
): Promise<number> {
  const stacks = args.stacks.split(",").map((s) => s.trim()).filter(Boolean);
  const problem = stackListProblem(stacks) ?? (realEngine ? passphraseProblem() : null);
  if (problem !== null) {
    io.err(problem);
    return 2;
  }
  if (args.sandbox && args.keep) {
    io.err("--keep with --sandbox: the sandbox and its stacks are removed at the end, nothing can be kept");
    return 2;
  }
  const sandbox = args.sandbox ? await startSandbox(projectDir, progress) : undefined;
  // Ctrl-C or a kill: the running up/destroy is cancelled (the CLI gets SIGINT), the progress
  // is saved, then the sandbox is removed (its guests and daemons would outlive this process).
  const abort = new AbortController();
  // Kept for the whole sweep: a second Ctrl-C must not kill this process before the sandbox is removed.
  const onSignal = (signal: NodeJS.Signals) => {
    if (abort.signal.aborted) return;
    io.err(`sweep: ${signal}: cancelling; run the same command again to resume`);
    abort.abort();
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, onSignal);
  let exitCode: number;
  try {
    const outcome = await runSweep(
      {
        stacks,
        outDir: path.resolve(args.out),
        samples: args.samples,
        shuffle: args.shuffle,
        seed: args.seed,
        keep: args.keep,
        failIf: args.failIf,
      },
      workspace(abort.signal),
      progress,
    );
    for (const m of outcome.messages) io.err(m);
    exitCode = outcome.exitCode;
  } finally {
    for (const sig of ["SIGINT", "SIGTERM"] as const) process.off(sig, onSignal);
    await sandbox?.stop();
  }
  return abort.signal.aborted ? 130 : exitCode;
}
