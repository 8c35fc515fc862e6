import { createHash } from "node:crypto";
import type { LabConfig } from "../../config/model";
import { agentTransport } from "./agent";
import { sshTransport } from "./ssh";
import type { Transport } from "./transport";

export { agentTransport, type AgentTarget } from "./agent";
export { sshTransport, GUEST_SSH_KEY_ENV, type SshTarget } from "./ssh";
export { netnsTransport } from "./netns";
export type { Transport } from "./transport";

/** The transport `guest.access` names. Validation guarantees an SSH address when it is ssh. */
export function transportFor(cfg: LabConfig): Transport {
  const g = cfg.guest;
  if (g.access === "agent") {
    return agentTransport({ uri: cfg.libvirt.uri, domain: g.name, os: g.os, timeoutSeconds: g.agentTimeoutSeconds });
  }
  if (g.ssh.address === undefined) throw new Error(`stack ${cfg.stack}: guest.access is ssh but the guest has no address (guest.ssh.address)`);
  return sshTransport({ address: g.ssh.address, user: g.ssh.user, port: g.ssh.port, os: g.os, timeoutSeconds: g.agentTimeoutSeconds });
}

/**
 * The host bash of one guest step: the transport's `guest_exec` fed the guest script through
 * a quoted heredoc, so nothing in the script is expanded by the host. The delimiter carries
 * the script's hash and so cannot be one of its lines.
 */
export function guestStepCommand(transport: Transport, guestScript: string): string {
  const delimiter = `OFFLOAD_LAB_GUEST_SCRIPT_${createHash("sha256").update(guestScript).digest("hex").slice(0, 16)}`;
  const body = guestScript.endsWith("\n") ? guestScript : `${guestScript}\n`;
  return `set -euo pipefail
${transport.functionDefinition}
guest_exec <<'${delimiter}'
${body}${delimiter}
`;
}
