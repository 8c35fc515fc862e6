import { z } from "zod";
import { parseStepJson } from "./stepJson";

const schema = z.object({
  network: z.string(),
  mode: z.enum(["adopt", "dedicated"]),
  bridge: z.string(),
  /** The bridge's MTU read back after start. */
  mtu: z.number().int(),
});

export type NetworkOutput = z.infer<typeof schema>;

export function parseNetworkOutput(stdout: string): NetworkOutput {
  return parseStepJson("network", schema, stdout);
}
