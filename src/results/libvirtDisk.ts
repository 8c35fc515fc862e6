import { z } from "zod";
import { parseStepJson } from "./stepJson";

const schema = z.object({
  overlay: z.string(),
  base: z.string(),
  baseFormat: z.enum(["qcow2", "raw"]),
  virtualSizeBytes: z.number().int(),
  /** False when a re-run found the linked clone already there. */
  created: z.boolean(),
});

export type DiskOutput = z.infer<typeof schema>;

export function parseDiskOutput(stdout: string): DiskOutput {
  return parseStepJson("guest-disk", schema, stdout);
}
