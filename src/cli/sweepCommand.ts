import * as path from "node:path";
import { runSweep } from "../sweep/run";
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
}

/**
 * `sweep`: the sweep's own lines (run i of n, stack, phase) and the engine's output go through
 * `progress`, which stamps the elapsed time or, under --quiet, drops them. */
export async function sweepCommand(args: SweepArgs, workspace: () => SweepWorkspace, io: CommandIo, progress: Progress): Promise<number> {
  const outcome = await runSweep(
    {
      stacks: args.stacks.split(",").map((s) => s.trim()).filter(Boolean),
      outDir: path.resolve(args.out),
      samples: args.samples,
      shuffle: args.shuffle,
      seed: args.seed,
      keep: args.keep,
      failIf: args.failIf,
    },
    workspace(),
    progress,
  );
  for (const m of outcome.messages) io.err(m);
  return outcome.exitCode;
}
