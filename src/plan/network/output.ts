import { z } from "zod";
import { parseStepJson } from "../script/stepJson";

const schema = z.object({
  network: z.string(),
  mode: z.enum(["adopt", "dedicated"]),
  bridge: z.string(),
  /** The bridge's MTU read back after start. */
  mtu: z.number().int(),
});

/** What the network step reports: the lab network and its bridge as they came up. */
export type NetworkOutput = z.output<typeof schema>;

export function parseNetworkOutput(stdout: string): NetworkOutput {
  return parseStepJson("network", schema, stdout);
}
