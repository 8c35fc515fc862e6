// Entry of the `pulumi-resource-command` plugin executable (provider/pulumi-resource-command).
import * as provider from "@pulumi/pulumi/provider";
import { commandProvider } from "./provider";

provider.main(commandProvider, process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
