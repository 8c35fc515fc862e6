import { scriptFile } from "../script/files";
import { transportDefinition } from "./definition";
import { POWERSHELL_ARGV, SH_ARGV } from "./powershellLoader";
import type { Transport } from "./transport";

const SSH = scriptFile(__dirname, "ssh.sh");

/** Environment variable that carries the guest's SSH private key (ssh.sh reads it). */
export const GUEST_SSH_KEY_ENV = "OFFLOAD_LAB_GUEST_SSH_KEY";

export interface SshTarget {
  readonly address: string;
  readonly user: string;
  readonly port: number;
  readonly os: "windows" | "linux";
  /** How long to keep trying to connect after boot. */
  readonly timeoutSeconds: number;
}

/** SSH from the KVM host to the guest (ssh.sh), with the guest's key as the step's secret. */
export function sshTransport(t: SshTarget): Transport {
  return {
    kind: "ssh",
    description: `ssh ${t.user}@${t.address}:${t.port}`,
    functionDefinition: transportDefinition(SSH, {
      OL_SSH_TARGET: `${t.user}@${t.address}`,
      OL_SSH_PORT: t.port,
      OL_SSH_TIMEOUT: t.timeoutSeconds,
      // One word: ssh hands it to the guest's shell as the command line.
      OL_SSH_REMOTE: (t.os === "windows" ? POWERSHELL_ARGV : SH_ARGV).join(" "),
    }),
    secretEnv: { [GUEST_SSH_KEY_ENV]: "guestSshPrivateKey" },
    hostTools: ["ssh"],
  };
}
