import { scriptFile } from "../script/files";
import { transportDefinition } from "./definition";
import type { Transport } from "./transport";

const NETNS = scriptFile(__dirname, "netns.sh");

/**
 * For tests only: a network namespace stands in for a Linux guest, and the script runs with
 * `ip netns exec NS sh -s` (netns.sh). It lets the guest scripts and the benchmark loop run
 * for real against veth devices without a VM.
 */
export function netnsTransport(namespace: string): Transport {
  return {
    kind: "netns",
    description: `network namespace ${namespace} (tests only)`,
    functionDefinition: transportDefinition(NETNS, { OL_NETNS: namespace }),
    secretEnv: {},
    hostTools: ["ip"],
  };
}
