import * as fs from "node:fs";
import * as path from "node:path";
import { labStackOf } from "../engine/stack";

/** The stacks whose KVM host is the sandbox (stacks/Pulumi.sandbox-*.yaml). */
export const SANDBOX_STACKS = ["sandbox-uso-off", "sandbox-uso-on"] as const;

const KEY = "offload-lab:hostSshPrivateKey";

/**
 * Lends the sandbox's SSH key to its stacks for as long as it runs: each stack is created in
 * the state backend (the passphrase provider adds its salt to the stack file) and gets the key
 * as a Pulumi secret. `release` removes the stacks from the backend and puts every stack file
 * back byte for byte, so the repository is as it was and no key outlives its sandbox.
 */
export async function lendKey(projectDir: string, privateKey: string, stacks: readonly string[] = SANDBOX_STACKS) {
  const files = new Map(stacks.map((s) => [s, path.join(projectDir, "stacks", `Pulumi.${s}.yaml`)]));
  const original = new Map([...files].map(([s, f]) => [s, fs.readFileSync(f, "utf8")]));
  const release = async (): Promise<void> => {
    for (const stack of stacks) {
      try {
        const s = await labStackOf(projectDir, stack);
        await s.workspace.removeStack(stack, { force: true });
      } catch {
        /* never created */
      }
      fs.writeFileSync(files.get(stack)!, original.get(stack)!);
    }
  };
  try {
    for (const stack of stacks) {
      const s = await labStackOf(projectDir, stack);
      await s.setConfig(KEY, { value: privateKey, secret: true });
    }
  } catch (e) {
    await release();
    throw e;
  }
  return { release };
}
