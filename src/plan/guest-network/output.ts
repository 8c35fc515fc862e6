import { z } from "zod";
import { parseStepJson } from "../script/stepJson";

const schema = z.object({
  /** The lab interface (Linux) or adapter (Windows) the matrix sends from. */
  interface: z.string(),
  operstate: z.string(),
  /** Its IPv4 addresses, address/prefix. */
  addresses: z.array(z.string()).min(1),
  /** How the guest routes to the host's address. */
  route: z.string(),
  /** Seconds the guest step waited for all of it. */
  waitedSeconds: z.number().int().nonnegative(),
});

/** The guest's network as the matrix found it: up, addressed, with a route to the host. */
export type GuestNetworkReadBack = z.output<typeof schema>;

export function parseGuestNetwork(stdout: string): GuestNetworkReadBack {
  return parseStepJson("guest-network", schema, stdout);
}
