import { z } from "zod";
import { parseStepJson } from "../script/stepJson";

const schema = z.object({
  inf: z.string(),
  /** The INF's DriverVer version: the NetKVM build this step installed. */
  infDriverVersion: z.string().nullable(),
  /** The virtio-win ISO's volume label, and the version it names (virtio-win-0.1.271 → 0.1.271). */
  isoLabel: z.string().nullable(),
  virtioWinVersion: z.string().nullable(),
  windows: z.string(),
  pnputilExitCode: z.number(),
  /** pnputil 3010: the script has failed the step (exit 3) until the guest restarts. */
  rebootRequired: z.boolean(),
  pnputilOutput: z.string(),
  adapter: z.string().nullable(),
  driverVersion: z.string().nullable(),
  driverDate: z.string().nullable(),
});

/** What `netkvm-install` installed: the adapter's driver afterwards. */
export type NetkvmInstallReadBack = z.output<typeof schema>;

export function parseNetkvmInstall(stdout: string): NetkvmInstallReadBack {
  return parseStepJson("netkvm-install", schema, stdout);
}
