import { scriptFile } from "../script/files";
import { transportDefinition } from "./definition";
import { POWERSHELL_ARGV, SH_ARGV } from "./powershellLoader";
import type { Transport } from "./transport";

const AGENT = scriptFile(__dirname, "agent.sh");

export interface AgentTarget {
  readonly uri: string;
  readonly domain: string;
  readonly os: "windows" | "linux";
  /** How long to wait for the agent to answer after boot, and again for the script to end. */
  readonly timeoutSeconds: number;
}

/** A guest-exec's program as the agent takes it: `path` and its `arg` list. */
function agentCommand([path, ...arg]: readonly string[]): string {
  return JSON.stringify({ path, arg });
}

/**
 * What guest_stop runs in the guest, the pid appended: taskkill ends the PowerShell that
 * guest-exec started and its whole tree (iperf3.exe, a sender); on Linux the cell script is
 * `exec timeout`, which passes the TERM on to iperf3.
 */
const WINDOWS_STOP = ["taskkill.exe", "/F", "/T", "/PID"] as const;
const LINUX_STOP = ["/bin/kill", "-TERM"] as const;

/** The QEMU guest agent through `virsh qemu-agent-command` (agent.sh). */
export function agentTransport(t: AgentTarget): Transport {
  const windows = t.os === "windows";
  return {
    kind: "agent",
    description: `qemu-guest-agent of ${t.domain} via virsh -c ${t.uri}`,
    functionDefinition: transportDefinition(AGENT, {
      OL_AGENT_URI: t.uri,
      OL_AGENT_DOMAIN: t.domain,
      OL_AGENT_TIMEOUT: t.timeoutSeconds,
      OL_AGENT_COMMAND: agentCommand(windows ? POWERSHELL_ARGV : SH_ARGV),
      OL_AGENT_STOP: agentCommand(windows ? WINDOWS_STOP : LINUX_STOP),
    }),
    secretEnv: {},
    hostTools: ["virsh", "jq", "base64"],
  };
}
