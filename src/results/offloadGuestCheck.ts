import { z } from "zod";
import { stepJson } from "./offloadStep";

const guestCheckOutput = z.object({
  ok: z.boolean(),
  missing: z.array(z.string()),
  iperf3Path: z.string(),
  iperf3Version: z.string().nullable(),
  // Linux reports the interface and kernel, Windows the adapter, driver and agent service.
  interface: z.string().optional(),
  kernel: z.string().optional(),
  windows: z.string().optional(),
  adapter: z.string().nullable().optional(),
  driverFileName: z.string().nullable().optional(),
  driverVersion: z.string().nullable().optional(),
  agentService: z.string().nullable().optional(),
});

/** What `guest-check` found in the guest image. */
export type GuestCheckReadBack = z.output<typeof guestCheckOutput>;

export interface GuestCheckResult {
  readonly readBack: GuestCheckReadBack;
  /** Same wording as the script's stderr; null when the image has everything. */
  readonly error: string | null;
}

export function guestCheckResult(stdout: string): GuestCheckResult {
  const readBack = stepJson("guest-check", stdout, guestCheckOutput);
  const error = readBack.missing.length === 0
    ? null
    : `guest-check: the guest image lacks: ${readBack.missing.join("; ")}${readBack.windows !== undefined ? " (see docs/windows-guest.md)" : ""}`;
  return { readBack, error };
}
