# guest_exec and guest_stop: src/plan/transport/ssh.sh, after the transport's values
OL_SSH_TARGET=root@10.77.0.10
OL_SSH_PORT=22
OL_SSH_TIMEOUT=300
OL_SSH_REMOTE="/bin/sh -s"
# guest_exec over SSH from the KVM host straight to the guest (the host is on the guest's
# network, so it needs no jump host). Bound before this: OL_SSH_TARGET (user@address),
# OL_SSH_PORT, OL_SSH_TIMEOUT (seconds to keep trying to connect after boot) and
# OL_SSH_REMOTE (the guest program that reads the script on stdin). The key comes from
# $OFFLOAD_LAB_GUEST_SSH_KEY, the transport's secret, into a 0600 file that is removed again.
# The guest's host key is not pinned: the guest is a throwaway overlay whose key changes with
# every rebuild, on a network only the host reaches.
: "${OL_SSH_TARGET:?}" "${OL_SSH_PORT:?}" "${OL_SSH_TIMEOUT:?}" "${OL_SSH_REMOTE:?}"
guest_exec() {
  local key rc deadline err
  if [[ -z ${OFFLOAD_LAB_GUEST_SSH_KEY:-} ]]; then
    echo "guest_exec: OFFLOAD_LAB_GUEST_SSH_KEY is empty: the guest's SSH private key (config guestSshPrivateKey) did not arrive" >&2
    return 126
  fi
  key=$(umask 077 && mktemp)
  printf '%s\n' "$OFFLOAD_LAB_GUEST_SSH_KEY" >"$key"
  local -a ssh_cmd=(ssh -i "$key" -p "$OL_SSH_PORT" -o BatchMode=yes -o IdentitiesOnly=yes
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
    -o ConnectTimeout=10 -o ServerAliveInterval=15 -o ServerAliveCountMax=4 "$OL_SSH_TARGET")
  deadline=$((SECONDS + OL_SSH_TIMEOUT))
  until err=$("${ssh_cmd[@]}" exit </dev/null 2>&1); do
    if ((SECONDS >= deadline)); then
      rm -f "$key"
      echo "guest_exec: ssh to $OL_SSH_TARGET port $OL_SSH_PORT did not succeed within $OL_SSH_TIMEOUT s: $err" >&2
      return 124
    fi
    sleep 2
  done
  rc=0
  "${ssh_cmd[@]}" "$OL_SSH_REMOTE" || rc=$?
  rm -f "$key"
  if ((rc == 255)); then echo "guest_exec: ssh to $OL_SSH_TARGET lost the connection (exit 255)" >&2; fi
  return $rc
}
# guest_stop PIDFILE: over SSH the host never learns the guest pid, so there is nothing to end
# by pid; the cell scripts' own deadline, shorter than the host's, ends the sender.
guest_stop() {
  echo "guest_stop: ssh has no guest pid to end; the guest's own deadline ends the sender" >&2
  return 125
}