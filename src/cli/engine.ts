import type { Command } from "commander";
import { passphraseProblem } from "../engine/environment";
import { labStackOf } from "../engine/stack";

/**
 * `offload-lab up|preview|destroy --stack X`: the lab through the real Pulumi engine with no
 * Node.js language host (the Automation API serves the program in-process). What `pulumi up`
 * does with a full Pulumi install, on a machine that has only the CLI built from Go modules.
 */
export function addEngineCommands(program: Command, setCode: (code: number) => void): void {
  const project = () => program.opts().project as string;
  const stream = (s: string) => process.stdout.write(s);
  const guarded = (f: (stack: string) => Promise<void>) => async (opts: { stack: string }) => {
    const problem = passphraseProblem();
    if (problem !== null) {
      console.error(problem);
      setCode(2);
      return;
    }
    try {
      await f(opts.stack);
    } catch (e) {
      // The engine has already printed the diagnostics; the error's first line says which step.
      console.error((e as Error).message.split("\n").find((l) => l.includes("error:")) ?? (e as Error).message.split("\n")[0]);
      setCode(1);
    }
  };
  program
    .command("preview")
    .description("show what `up` would change for a stack (the real engine, nothing runs on the host)")
    .requiredOption("--stack <name>", "stack name: stacks/Pulumi.<name>.yaml")
    .action(guarded(async (name) => void (await (await labStackOf(project(), name)).preview({ onOutput: stream, diff: true }))));
  program
    .command("up")
    .description("create or update a stack's lab on its KVM host and run its matrix (the real engine)")
    .requiredOption("--stack <name>", "stack name: stacks/Pulumi.<name>.yaml")
    .action(guarded(async (name) => void (await (await labStackOf(project(), name)).up({ onOutput: stream }))));
  program
    .command("destroy")
    .description("remove everything a stack's lab made; an adopted network gets its original definition back")
    .requiredOption("--stack <name>", "stack name: stacks/Pulumi.<name>.yaml")
    .action(guarded(async (name) => void (await (await labStackOf(project(), name)).destroy({ onOutput: stream }))));
}
