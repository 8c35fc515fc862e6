set -euo pipefail
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
guest_exec <<'OFFLOAD_LAB_GUEST_SCRIPT_4926e9bd60492695'
# offload-lab guest-network (Linux guest): src/plan/guest-network/linux.sh, after the stack's values
set -u
OL_LINUX_INTERFACE=eth0
OL_MAC=52:54:00:3b:ac:a3
HOST=10.77.0.1
WANT_ADDRESS=10.77.0.10
WAIT_SECONDS=180
# JSON for a Linux guest's scripts, which run under POSIX sh in an image that may have no jq.
# esc() walks the string a character at a time: gsub() with backslashes in the replacement
# differs between mawk, gawk and busybox awk. Control characters other than tab, newline and
# carriage return are dropped.
OL_AWK_JSON_ESC='function esc(s,  out, c, i) {
    out = ""
    for (i = 1; i <= length(s); i++) {
      c = substr(s, i, 1)
      if (c == "\\") c = "\\\\"; else if (c == "\"") c = "\\\""
      else if (c == "\t") c = "\\t"; else if (c == "\r") c = "\\r"
      out = out c
    }
    return out
  }'
# ol_json_string: stdin as one JSON string (its lines joined with \n).
ol_json_string() {
  tr -d '\000-\010\013\014\016-\037' | awk "$OL_AWK_JSON_ESC"'
    BEGIN { printf "\"" } { if (NR > 1) printf "\\n"; printf "%s", esc($0) } END { printf "\"" }'
}
# ol_json_lines: stdin as a JSON array of its lines.
ol_json_lines() {
  tr -d '\000-\010\013\014\016-\037' | awk "$OL_AWK_JSON_ESC"'
    BEGIN { printf "[" } { printf "%s\"%s\"", (NR > 1 ? "," : ""), esc($0) } END { printf "]" }'
}
# shellcheck disable=SC2034 # OL_DEV and OL_DEV_WANTED are for the script that includes this
# The guest's lab interface, for every Linux guest script of the lab: sets OL_DEV to
# $OL_LINUX_INTERFACE (guest.linuxInterface) when it is set, or else to the device with the
# domain's MAC $OL_MAC; OL_DEV is empty when absent and OL_DEV_WANTED says what was looked
# for. Only devices with a `device` link count, so a bridge or VLAN that copied the MAC is
# not picked.
OL_DEV=
if [ -n "$OL_LINUX_INTERFACE" ]; then
  OL_DEV_WANTED="no interface $OL_LINUX_INTERFACE in the guest (guest.linuxInterface)"
  [ -e "/sys/class/net/$OL_LINUX_INTERFACE" ] && OL_DEV=$OL_LINUX_INTERFACE
else
  OL_DEV_WANTED="no interface with MAC $OL_MAC in the guest (set guest.linuxInterface to name it)"
  for ol_d in /sys/class/net/*; do
    [ -e "$ol_d/device" ] || continue
    if [ "$(cat "$ol_d/address" 2>/dev/null)" = "$OL_MAC" ]; then OL_DEV=${ol_d##*/}; break; fi
  done
fi
# Waits until what the matrix needs is there: the lab interface up, its IPv4 address (the
# configured one, when known), and a route to the host's address through that interface.
# Without it the first cells run before DHCP has answered and fail with "Network is
# unreachable". Prints one JSON document; exits 1 naming what is still missing when the wait
# runs out. Bound before this: HOST (the host's address), WANT_ADDRESS (the guest's, or empty
# when unknown) and WAIT_SECONDS; OL_DEV is the lab interface (linux-interface.sh).
: "${HOST:?}" "${WANT_ADDRESS?}" "${WAIT_SECONDS:?}"
[ -n "$OL_DEV" ] || { echo "guest-network: $OL_DEV_WANTED" >&2; exit 2; }
# Whether the interface has WANT_ADDRESS, compared as text, not as a pattern.
has_wanted_address() {
  while read -r address; do
    case $address in "$WANT_ADDRESS"/*) return 0 ;; esac
  done <<ADDRESSES_END
$addresses
ADDRESSES_END
  return 1
}
waited=0
while :; do
  state=$(cat "/sys/class/net/$OL_DEV/operstate" 2>/dev/null || echo absent)
  addresses=$(ip -4 -o addr show dev "$OL_DEV" scope global 2>/dev/null | awk '{ print $4 }')
  # First line only: "HOST dev DEV src ADDR ..."; -o would append a backslash and "cache".
  route=$(ip -4 route get "$HOST" 2>&1 | sed -n 1p)
  missing=
  if [ "$state" != up ]; then
    missing="$OL_DEV is $state, not up"
  elif [ -n "$WANT_ADDRESS" ] && ! has_wanted_address; then
    missing="$OL_DEV has no address $WANT_ADDRESS (it has: $(printf '%s' "${addresses:-none}" | tr '\n' ' '))"
  elif [ -z "$addresses" ]; then
    missing="$OL_DEV has no IPv4 address"
  else
    case "$route " in
      *" dev $OL_DEV "*) ;;
      *) missing="no route to the host $HOST through $OL_DEV (ip route get: $route)" ;;
    esac
  fi
  [ -n "$missing" ] || break
  if [ "$waited" -ge "$WAIT_SECONDS" ]; then
    echo "guest-network: after $WAIT_SECONDS s, $missing: the matrix could not reach the iperf3 server" >&2
    exit 1
  fi
  sleep 1
  waited=$((waited + 1))
done
printf '{"interface":%s,"operstate":%s,"addresses":%s,"route":%s,"waitedSeconds":%s}\n' \
  "$(printf '%s' "$OL_DEV" | ol_json_string)" \
  "$(printf '%s' "$state" | ol_json_string)" \
  "$(printf '%s\n' "$addresses" | ol_json_lines)" \
  "$(printf '%s' "$route" | ol_json_string)" \
  "$waited"
OFFLOAD_LAB_GUEST_SCRIPT_4926e9bd60492695
