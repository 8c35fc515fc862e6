import { sh } from "../quote";
import type { Transport } from "./transport";

/**
 * For tests only: a network namespace stands in for a Linux guest, and the script runs with
 * `ip netns exec NS sh -s`. It lets the guest scripts and the benchmark loop run for real
 * against veth devices without a VM.
 */
export function netnsTransport(namespace: string): Transport {
  return {
    description: `network namespace ${namespace} (tests only)`,
    functionDefinition: `# guest_exec: network namespace ${namespace} standing in for a guest (tests only)
guest_exec() {
  ip netns exec ${sh(namespace)} sh -s
}
# guest_stop PIDFILE: the "guest" runs in the host's process group, which the deadline ended.
guest_stop() {
  return 0
}`,
  };
}
