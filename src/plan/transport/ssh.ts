import { sh, shArgs } from "../quote";
import { POWERSHELL_ARGV, SH_ARGV } from "./powershellLoader";
import type { Transport } from "./transport";

/** Environment variable that carries the guest's SSH private key (a Pulumi secret). */
export const GUEST_SSH_KEY_ENV = "OFFLOAD_LAB_GUEST_SSH_KEY";

export interface SshTarget {
  readonly address: string;
  readonly user: string;
  readonly port: number;
  readonly os: "windows" | "linux";
  /** How long to keep trying to connect after boot. */
  readonly timeoutSeconds: number;
}

/**
 * SSH from the KVM host straight to the guest (the host is on the guest's network, so it
 * needs no jump host). The key comes from $OFFLOAD_LAB_GUEST_SSH_KEY into a 0600 file that
 * is removed again. The guest's host key is not pinned: the guest is a throwaway overlay
 * whose key changes with every rebuild, on a network only the host reaches.
 */
export function sshTransport(t: SshTarget): Transport {
  const remote = (t.os === "windows" ? POWERSHELL_ARGV : SH_ARGV).join(" ");
  const functionDefinition = `# guest_exec: ssh ${t.user}@${t.address}
OL_SSH_TARGET=${sh(`${t.user}@${t.address}`)}
OL_SSH_PORT=${sh(t.port)}
OL_SSH_TIMEOUT=${sh(t.timeoutSeconds)}
guest_exec() {
  local key rc deadline err
  if [[ -z \${${GUEST_SSH_KEY_ENV}:-} ]]; then
    echo "guest_exec: ${GUEST_SSH_KEY_ENV} is empty: the guest's SSH private key (config guestSshPrivateKey) did not arrive" >&2
    return 126
  fi
  key=$(umask 077 && mktemp)
  printf '%s\\n' "$${GUEST_SSH_KEY_ENV}" >"$key"
  local -a ssh_cmd=(ssh -i "$key" -p "$OL_SSH_PORT" -o BatchMode=yes -o IdentitiesOnly=yes
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
    -o ConnectTimeout=10 -o ServerAliveInterval=15 -o ServerAliveCountMax=4 "$OL_SSH_TARGET")
  deadline=$((SECONDS + OL_SSH_TIMEOUT))
  until err=$("\${ssh_cmd[@]}" exit </dev/null 2>&1); do
    if ((SECONDS >= deadline)); then
      rm -f "$key"
      echo "guest_exec: ssh to $OL_SSH_TARGET port $OL_SSH_PORT did not succeed within $OL_SSH_TIMEOUT s: $err" >&2
      return 124
    fi
    sleep 2
  done
  rc=0
  "\${ssh_cmd[@]}" ${shArgs([remote])} || rc=$?
  rm -f "$key"
  if ((rc == 255)); then echo "guest_exec: ssh to $OL_SSH_TARGET lost the connection (exit 255)" >&2; fi
  return $rc
}
# guest_stop PIDFILE: over SSH the host never learns the guest pid, so there is nothing to end
# by pid; the cell scripts' own deadline, shorter than the host's, ends the sender.
guest_stop() {
  echo "guest_stop: ssh has no guest pid to end; the guest's own deadline ends the sender" >&2
  return 125
}`;
  return { description: `ssh ${t.user}@${t.address}:${t.port}`, functionDefinition };
}
