import { Stack } from "@pulumi/pulumi/automation";
import { backendUrl } from "./environment";
import { engineEnvVars, projectWorkspace } from "./stack";
import { removeWorkingCopy } from "./workingCopy";

/**
 * Forgets every stack of one host (`<stack>.<host>`) in this project's backend, with its working
 * copy. For a sandbox host: a new sandbox is a new host, so whatever stacks an earlier one had
 * (a run killed before it could remove them, its resources gone with that sandbox) are stale;
 * left in the state, the next `up` would try to update or delete things that are not there.
 * A stack still locked by a killed CLI is unlocked first (`pulumi cancel`): its owner is dead.
 */
export async function forgetHostStacks(projectDir: string, host: string): Promise<string[]> {
  const envVars = engineEnvVars(projectDir);
  const ws = await projectWorkspace(projectDir, envVars);
  const names = (await ws.listStacks()).map((s) => s.name.split("/").pop()!).filter((n) => n.endsWith(`.${host}`));
  for (const name of names) {
    try {
      await ws.removeStack(name, { force: true });
    } catch (e) {
      if (!/locked/i.test((e as Error).message)) throw e;
      await (await Stack.select(name, ws)).cancel();
      await ws.removeStack(name, { force: true });
    }
    removeWorkingCopy(projectDir, backendUrl(projectDir), name);
  }
  return names;
}
