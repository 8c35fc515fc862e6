import { z } from "zod";
import { parseStepJson } from "../script/stepJson";

/**
 * One of the lab's ports as host-firewall found and left it: `added` by the lab (a runtime
 * rule its delete removes), `already-open` in the zone before the lab came, or `closed`
 * because the stack says `host.firewall: leave`.
 */
const port = z.object({
  /** `12345/tcp`. */
  port: z.string(),
  state: z.enum(["added", "already-open", "closed"]),
});

const schema = z.object({
  /** firewalld runs on the KVM host; false: the step did nothing. */
  firewalld: z.boolean(),
  setting: z.enum(["open", "leave"]),
  /** The firewalld zone of the lab's bridge; null without firewalld. */
  zone: z.string().nullable(),
  ports: z.array(port),
});

/** What the host-firewall step reports: the bridge's zone and what it opened there. */
export type HostFirewall = z.output<typeof schema>;

export function parseHostFirewall(stdout: string): HostFirewall {
  return parseStepJson("host-firewall", schema, stdout);
}
