import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";
import { labStack } from "../lab/stackProgram";
import { engineEnvironment } from "./environment";

/**
 * A stack of the project driven by the Automation API with the lab as an inline program: the
 * SDK serves the program itself, so no Node.js language host plugin is needed. Pulumi.yaml
 * and stacks/ are read from `projectDir` as the CLI would; the stack is created on first use
 * with the passphrase secrets provider.
 */
export async function labStackOf(projectDir: string, stackName: string): Promise<Stack> {
  const envVars = engineEnvironment(projectDir);
  // `pulumi` from PATH (scripts/pulumi-cli.sh puts the pinned build there); never installed from here.
  const pulumiCommand = await PulumiCommand.get();
  return LocalWorkspace.createOrSelectStack(
    { stackName, projectName: "offload-lab", program: async () => labStack() },
    { workDir: projectDir, envVars, pulumiCommand, secretsProvider: "passphrase" },
  );
}
