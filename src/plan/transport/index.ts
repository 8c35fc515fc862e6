import type { LabConfig } from "../../config/model";
import { agentTransport } from "./agent";
import { sshTransport } from "./ssh";
import type { Transport } from "./transport";

export { agentTransport, type AgentTarget } from "./agent";
export { sshTransport, GUEST_SSH_KEY_ENV, type SshTarget } from "./ssh";
export { netnsTransport } from "./netns";
export type { Transport } from "./transport";

/**
 * The transport `guest.access` names: the one place that picks it. Validation guarantees an
 * SSH address when it is ssh.
 */
export function transportFor(cfg: LabConfig): Transport {
  const g = cfg.guest;
  if (g.access === "agent") {
    return agentTransport({ uri: cfg.libvirt.uri, domain: g.name, os: g.os, timeoutSeconds: g.agentTimeoutSeconds });
  }
  if (g.ssh.address === undefined) throw new Error(`stack ${cfg.stack}: guest.access is ssh but the guest has no address (guest.ssh.address)`);
  return sshTransport({ address: g.ssh.address, user: g.ssh.user, port: g.ssh.port, os: g.os, timeoutSeconds: g.agentTimeoutSeconds });
}

/** The host bash of one guest step, for callers that run a guest script outside a step. */
export { guestStepCommand } from "../guestStep";
