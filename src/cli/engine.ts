import type { Command } from "commander";
import type { Stack } from "@pulumi/pulumi/automation";
import { backendUrl } from "../engine/environment";
import { missingPassphrase, passphraseSource } from "../engine/passphrase";
import { chooseHosts, readPool, type LabHost } from "../hosts/pool";
import { collect } from "./options";
import { UsageError } from "./errors";
import { checkStackTarget } from "./stackCheck";

interface EngineOptions {
  readonly stack: string;
  readonly hosts?: string;
  readonly host: string[];
}

/** The host of --hosts FILE --host NAME, or null (the stack file's own host). */
function hostOf(opts: EngineOptions): LabHost | null {
  if (opts.hosts === undefined) {
    if (opts.host.length > 0) throw new UsageError("--host names a host of the pool: give --hosts FILE too");
    return null;
  }
  if (opts.host.length !== 1) throw new UsageError(`--hosts ${opts.hosts}: name the host with --host NAME (once)`);
  return chooseHosts(readPool(opts.hosts), opts.host, opts.hosts)[0]!;
}

/**
 * `offload-lab up|preview|destroy --stack X [--hosts FILE --host NAME]`: the lab through the real
 * Pulumi engine with no Node.js language host (the Automation API serves the program
 * in-process). What `pulumi up` does with a full Pulumi install, on a machine that has only the
 * CLI built from Go modules. A bad stack, bad settings, a bad pool or no passphrase exit 2 with
 * the same lines `render` prints, before the engine starts; an engine failure exits 1.
 */
export function addEngineCommands(program: Command, setCode: (code: number) => void): void {
  const project = () => program.opts().project as string;
  const stream = (s: string) => process.stdout.write(s);
  const command = (name: string, description: string, run: (stack: Stack) => Promise<unknown>) =>
    program
      .command(name)
      .description(description)
      .requiredOption("--stack <name>", "stack name: stacks/Pulumi.<name>.yaml")
      .option("--hosts <file>", "a host pool file (see sweep --hosts); with --host: the stack on that host, <stack>.<host>")
      .option("--host <name>", "the pool host", collect, [])
      .action(async (opts: EngineOptions) => {
        const host = hostOf(opts);
        if (host !== null) host.privateKey();
        checkStackTarget(project(), { stack: opts.stack, host });
        if (passphraseSource(project()) === null) throw missingPassphrase(project(), backendUrl(project()));
        // The Pulumi SDK loads here, not at start-up: --help and render never need it.
        const { labStackOf, translatingPassphrase } = await import("../engine/stack");
        const stack = await labStackOf(project(), { stack: opts.stack, host });
        try {
          await translatingPassphrase(project(), stack.name, () => run(stack));
        } catch (e) {
          if ((e as Error).name === "PassphraseError") throw e;
          // The engine has already printed the diagnostics; the error's first line says which step.
          console.error((e as Error).message.split("\n").find((l) => l.includes("error:")) ?? (e as Error).message.split("\n")[0]);
          setCode(1);
        }
      });
  command("preview", "show what `up` would change for a stack (the real engine, nothing runs on the host)", (s) => s.preview({ onOutput: stream, diff: true }));
  command("up", "create or update a stack's lab on its KVM host and run its matrix (the real engine)", (s) => s.up({ onOutput: stream }));
  command("destroy", "remove everything a stack's lab made; an adopted network gets its original definition back", (s) => s.destroy({ onOutput: stream }));
}
