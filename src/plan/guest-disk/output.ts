import { z } from "zod";
import { parseStepJson } from "../script/stepJson";

const schema = z.object({
  overlay: z.string(),
  base: z.string(),
  baseFormat: z.enum(["qcow2", "raw"]),
  virtualSizeBytes: z.number().int(),
  /** False when a re-run found the linked clone already there. */
  created: z.boolean(),
});

/** What the guest-disk step reports: the guest's linked clone and what backs it. */
export type DiskOutput = z.output<typeof schema>;

export function parseDiskOutput(stdout: string): DiskOutput {
  return parseStepJson("guest-disk", schema, stdout);
}
