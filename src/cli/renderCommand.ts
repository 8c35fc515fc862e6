import * as fs from "node:fs";
import * as path from "node:path";
import { YAMLError } from "yaml";
import { listStacks, loadStack, stackFilePath } from "../config/stackFile";
import type { LabConfig } from "../config/model";
import { planLab } from "../plan/lab";
import { UsageError } from "./errors";
import type { CommandIo } from "./io";
import { renderPlan, writeFiles } from "./render";

/** The stack's validated config; a missing stack or unreadable YAML is the user's to fix. */
function stackConfig(project: string, stack: string): LabConfig {
  const file = stackFilePath(project, stack);
  if (!fs.existsSync(file)) {
    const known = fs.existsSync(path.join(project, "stacks")) ? listStacks(project) : [];
    throw new UsageError(
      `--stack ${stack}: there is no ${path.relative(process.cwd(), file) || file}\n` +
        (known.length > 0 ? `Stacks in ${project}: ${known.join(", ")}` : `No stacks/ folder in ${project}: pass --project <dir>`),
    );
  }
  try {
    return loadStack(project, stack);
  } catch (e) {
    if (e instanceof YAMLError) throw new UsageError(`${file}: not valid YAML: ${e.message.split("\n")[0]}`);
    throw e;
  }
}

/** `render`: every XML document and script the stack runs, plus manifest.json, into `out`. */
export function renderCommand(project: string, opts: { stack: string; out: string }, io: CommandIo): number {
  const cfg = stackConfig(project, opts.stack);
  const plan = planLab(cfg);
  const files = renderPlan(cfg, plan);
  writeFiles(path.resolve(opts.out), files);
  io.out(`${opts.stack}: ${plan.steps.length} steps, ${files.size} files in ${opts.out}`);
  return 0;
}
