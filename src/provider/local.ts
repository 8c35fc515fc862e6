import type { LocalInputs } from "./inputs";
import { runProcess, type Ran } from "./spawn";

export interface Previous {
  readonly stdout?: string;
  readonly stderr?: string;
}

/**
 * A local command as @pulumi/command 1.2.1 runs it: the interpreter (default `/bin/sh -c`) with
 * the command as its last argument, in `dir` (default the provider's working directory, which
 * the engine sets to the project), with this process's environment plus `environment`, and the
 * previous stdout/stderr as PULUMI_COMMAND_STDOUT/STDERR unless addPreviousOutputInEnv is false.
 */
export function runLocal(command: string, inputs: LocalInputs, previous: Previous, log: (line: string) => void): Promise<Ran> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...(inputs.environment ?? {}) };
  if (inputs.addPreviousOutputInEnv !== false) {
    if (previous.stdout) env.PULUMI_COMMAND_STDOUT = previous.stdout;
    if (previous.stderr) env.PULUMI_COMMAND_STDERR = previous.stderr;
  }
  return runProcess({
    argv: [...(inputs.interpreter ?? ["/bin/sh", "-c"]), command],
    env,
    cwd: inputs.dir,
    stdin: inputs.stdin,
    logging: inputs.logging,
    log,
    describe: command,
  });
}
