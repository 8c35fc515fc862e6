import * as fs from "node:fs";
import * as path from "node:path";
import { listStacks, loadStack, stackFilePath } from "../config/stackFile";
import type { LabConfig } from "../config/model";
import { didYouMean } from "../config/suggest";
import { planLab } from "../plan/lab";
import { UsageError } from "./errors";
import type { CommandIo } from "./io";
import { plural } from "./plural";
import { renderPlan } from "./render";
import { writeRender } from "./renderFolder";
import { renderSummary } from "./renderSummary";

/** The stack's validated config; a missing stack is the user's to fix. */
function stackConfig(project: string, stack: string): LabConfig {
  const file = stackFilePath(project, stack);
  if (!fs.existsSync(file)) {
    const known = fs.existsSync(path.join(project, "stacks")) ? listStacks(project) : [];
    const near = didYouMean(stack, known);
    throw new UsageError(
      `--stack ${stack}: there is no ${path.relative(process.cwd(), file) || file}${near === undefined ? "" : `; ${near}`}\n` +
        (known.length > 0 ? `Stacks in ${project}: ${known.join(", ")}` : `No stacks/ folder in ${project}: pass --project <dir>`),
    );
  }
  return loadStack(project, stack);
}

/**
 * `render`: every XML document and script the stack runs, plus manifest.json, into `out` (new,
 * empty, or an earlier render's, which it replaces), then the plan in short.
 */
export function renderCommand(project: string, opts: { stack: string; out: string }, io: CommandIo): number {
  if (opts.out.trim() === "") throw new UsageError("--out is empty: give the folder to write into");
  const cfg = stackConfig(project, opts.stack);
  const plan = planLab(cfg);
  const files = renderPlan(cfg, plan);
  const replaced = writeRender(path.resolve(opts.out), files, opts.out);
  io.out(`${opts.stack}: ${plural(plan.steps.length, "step")}, ${plural(files.size, "file")} in ${opts.out}${replaced === undefined ? "" : ` (${replaced})`}`);
  for (const line of renderSummary(cfg, plan)) io.out(line);
  return 0;
}
