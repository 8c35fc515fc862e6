import { z } from "zod";
import { parseStepJson } from "../script/stepJson";

const schema = z.object({
  ok: z.boolean(),
  missing: z.array(z.string()),
  iperf3Path: z.string(),
  iperf3Version: z.string().nullable(),
  // Linux reports the interface and kernel, Windows the adapter, driver and agent service.
  interface: z.string().optional(),
  kernel: z.string().optional(),
  windows: z.string().optional(),
  windowsBuild: z.number().int().optional(),
  /** Which NetKVM the driver's WMI classes tell (netkvm-wmi.ps1 Get-NetKvmBuild). */
  netkvmBuild: z.enum(["mm320+", "mm268-mm319", "before-mm268"]).optional(),
  /** `verified` from mm320: the driver's own USO flags and counter can be read back. */
  driverReadBack: z.enum(["verified", "unverified"]).optional(),
  adapter: z.string().nullable().optional(),
  driverFileName: z.string().nullable().optional(),
  driverVersion: z.string().nullable().optional(),
  agentService: z.string().nullable().optional(),
});

/** What `guest-check` found in the guest image; the script has failed the step when `ok` is false. */
export type GuestCheckReadBack = z.output<typeof schema>;

export function parseGuestCheck(stdout: string): GuestCheckReadBack {
  return parseStepJson("guest-check", schema, stdout);
}
