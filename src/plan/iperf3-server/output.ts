import { z } from "zod";
import { parseStepJson } from "../script/stepJson";

const schema = z.object({
  pid: z.number().int(),
  address: z.string(),
  port: z.number().int(),
  /** `iperf3 --version`'s first line on the host, e.g. `iperf 3.12 (cJSON 1.7.15)`. */
  version: z.string(),
  manager: z.enum(["systemd", "daemon"]),
});

/** What the iperf3-server step reports: the server the matrix sends to. */
export type Iperf3Server = z.output<typeof schema>;

export function parseIperf3Server(stdout: string): Iperf3Server {
  return parseStepJson("iperf3-server", schema, stdout);
}
