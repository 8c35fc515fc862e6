import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";
import { stackFilePath } from "../config/stackFile";
import { labStack } from "../lab/stackProgram";
import { backendUrl, engineEnvironment } from "./environment";
import { engineStackName, HOST_KEY, targetSettings, type StackTarget } from "./target";
import { isPassphraseFailure, missingPassphrase, passphraseEnvironment, passphraseSource, wrongPassphrase } from "./passphrase";
import { parseStackDoc, writeProjectOnly, writeWorkingCopy } from "./workingCopy";

export { engineStackName, HOST_KEY, targetSettings, type StackTarget };

/** The environment of every CLI call for this project: backend, no downloads, the passphrase. */
export function engineEnvVars(projectDir: string): Record<string, string> {
  const source = passphraseSource(projectDir);
  if (source === null) throw missingPassphrase(projectDir, backendUrl(projectDir));
  return { ...engineEnvironment(projectDir), ...passphraseEnvironment(source) };
}

/** Any engine call's failure with the passphrase becomes the user error that names backend, variable and file. */
export async function translatingPassphrase<T>(projectDir: string, stack: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    const source = passphraseSource(projectDir);
    if (source !== null && isPassphraseFailure(e)) throw wrongPassphrase(projectDir, source, backendUrl(projectDir), stack);
    throw e;
  }
}

/**
 * `pulumi config set --secret KEY` with the value on stdin: the Automation API's setConfig would
 * put it on the CLI's command line, where every local user can read it (/proc/PID/cmdline).
 */
async function setSecret(stack: Stack, key: string, value: string): Promise<void> {
  const ws = stack.workspace as LocalWorkspace;
  await new Promise<void>((resolve, reject) => {
    const child = spawn(ws.pulumiCommand.command, ["config", "set", "--secret", "--stack", stack.name, "--non-interactive", key], {
      cwd: ws.workDir,
      env: { ...process.env, ...ws.envVars },
      stdio: ["pipe", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`pulumi config set --secret ${key} failed (exit ${code}): ${stderr.trim()}`))));
    child.stdin!.end(value);
  });
}

/**
 * A stack of the project driven by the Automation API with the lab as an inline program: the
 * SDK serves the program itself, so no Node.js language host plugin is needed. The engine
 * works on a working copy of the committed stack settings (src/engine/workingCopy.ts) with
 * the target's host and runId set in and the host's key encrypted in as a secret; the stack is
 * created on first use with the passphrase secrets provider.
 */
export async function labStackOf(projectDir: string, target: StackTarget | string): Promise<Stack> {
  const t: StackTarget = typeof target === "string" ? { stack: target } : target;
  const envVars = engineEnvVars(projectDir);
  const name = engineStackName(t);
  const committed = parseStackDoc(fs.readFileSync(stackFilePath(projectDir, t.stack), "utf8"));
  const backend = backendUrl(projectDir);
  // `pulumi` from PATH (scripts/pulumi-cli.sh puts the pinned build there); never installed from here.
  const pulumiCommand = await PulumiCommand.get();
  const open = (keepSalt: boolean) => {
    const workDir = writeWorkingCopy(projectDir, backend, name, committed, targetSettings(t, committed), keepSalt);
    return LocalWorkspace.createOrSelectStack(
      { stackName: name, projectName: "offload-lab", program: async () => labStack() },
      { workDir, envVars, pulumiCommand, secretsProvider: "passphrase" },
    );
  };
  return translatingPassphrase(projectDir, name, async () => {
    let stack: Stack;
    try {
      stack = await open(true);
    } catch (e) {
      // A salt kept from a stack this backend no longer has (its state was removed) is no
      // reason to fail: the stack is made afresh with a salt of this passphrase.
      if (!isPassphraseFailure(e) || (await stackExists(projectDir, name, envVars, pulumiCommand))) throw e;
      stack = await open(false);
    }
    if (t.host) await setSecret(stack, HOST_KEY, t.host.privateKey());
    return stack;
  });
}

async function stackExists(projectDir: string, name: string, envVars: Record<string, string>, pulumiCommand: PulumiCommand): Promise<boolean> {
  const ws = await projectWorkspace(projectDir, envVars, pulumiCommand);
  return (await ws.listStacks()).some((s) => s.name === name || s.name.endsWith(`/${name}`));
}

/**
 * A workspace of the project for calls that name no stack of their own (list, remove): the
 * project file of the working copies' root, no stack settings.
 */
export async function projectWorkspace(projectDir: string, envVars = engineEnvVars(projectDir), pulumiCommand?: PulumiCommand): Promise<LocalWorkspace> {
  const dir = writeProjectOnly(projectDir, backendUrl(projectDir));
  return LocalWorkspace.create({ workDir: dir, envVars, pulumiCommand: pulumiCommand ?? (await PulumiCommand.get()) });
}
