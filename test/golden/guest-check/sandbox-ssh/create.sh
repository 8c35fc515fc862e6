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
OL_TRANSPORT="ssh root@10.77.0.10:22"
# ol_round_trip EXPECTED: runs the round-trip script read on stdin through guest_exec and
# fails the step unless the guest printed exactly EXPECTED. The script itself travels on the
# program's stdin (the Windows loader and `sh -s` both read it there, to its end), so its line
# coming back proves at once that the transport delivers stdin, closes it, and returns stdout.
# Everything after depends on that, and qemu-ga's delivery of guest-exec input-data on Windows
# has never run here (docs/windows-guest.md). OL_TRANSPORT names the transport for the message.
ol_round_trip() {
  local expected=$1 got rc=0 err
  err=$(mktemp)
  got=$(guest_exec 2>"$err") || rc=$?
  got=${got%$'\r'}
  if [[ $rc -ne 0 || $got != "$expected" ]]; then
    printf 'offload-lab: the first guest step could not run a one-line script through %s (exit %s, printed %q; stderr: %s)\n' \
      "$OL_TRANSPORT" "$rc" "$got" "$(tr '\n' ' ' <"$err")" >&2
    printf '%s\n' "offload-lab: the transport must deliver the script on the program's stdin, close it, and return its stdout. With guest.access agent: the QEMU guest agent must run in the guest (Windows: Get-Service QEMU-GA; install guest-agent\\qemu-ga-x86_64.msi from the virtio-win ISO, with vioserial) and pass guest-exec input-data to the program's stdin; if it does not, use guest.access ssh (docs/windows-guest.md). With ssh: the key, user and address must log in." >&2
    rm -f -- "$err"
    exit 1
  fi
  rm -f -- "$err"
}
ol_round_trip "offload-lab round trip: stdin in, stdout out" <<'OFFLOAD_LAB_ROUND_TRIP_32b2544b50b3f27b'
echo 'offload-lab round trip: stdin in, stdout out'
OFFLOAD_LAB_ROUND_TRIP_32b2544b50b3f27b
guest_exec <<'OFFLOAD_LAB_GUEST_SCRIPT_6a87a55ae914ab43'
# offload-lab guest-check (Linux guest): src/plan/guest-check/linux.sh, after the stack's values
set -u
OL_LINUX_INTERFACE=eth0
OL_MAC=52:54:00:3b:ac:a3
IPERF3=/usr/bin/iperf3
NEED_GSRO=yes
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
# The first guest step on a Linux guest: checks that the base image has what the lab needs
# and names everything missing at once. Prints one JSON document; exits 1 when something is
# missing. Bound before this: IPERF3 (guest.iperf3Path) and NEED_GSRO (yes when the matrix
# has gso senders, which are iperf3 --gsro); OL_DEV is the lab interface (linux-interface.sh).
: "${IPERF3:?}" "${NEED_GSRO:?}"
missing=
for tool in ethtool ip awk sed tr; do
  command -v "$tool" >/dev/null 2>&1 || missing="$missing$tool
"
done
if command -v ip >/dev/null 2>&1 && ! ip -j link show >/dev/null 2>&1; then
  missing="${missing}ip with JSON output (-j): iproute2 4.14 or newer
"
fi
iperf3_version=
if command -v "$IPERF3" >/dev/null 2>&1; then
  iperf3_version=$("$IPERF3" --version 2>&1 | sed -n 1p)
  # An older iperf3 would fail every gso cell: say it here.
  if [ "$NEED_GSRO" = yes ] && ! "$IPERF3" --help 2>&1 | grep -q -- '--gsro'; then
    missing="${missing}iperf3 with --gsro (3.21 or newer) for matrix.senders gso, not $iperf3_version
"
  fi
else
  missing="${missing}iperf3 at $IPERF3 (guest.iperf3Path)
"
fi
[ -n "$OL_DEV" ] || missing="$missing$OL_DEV_WANTED
"
missing=${missing%
}
ok=true
[ -z "$missing" ] || ok=false
printf '{"ok":%s,"missing":%s,"interface":%s,"iperf3Path":%s,"iperf3Version":%s,"kernel":%s}\n' \
  "$ok" \
  "$(if [ -n "$missing" ]; then printf '%s\n' "$missing"; fi | ol_json_lines)" \
  "$(printf '%s' "$OL_DEV" | ol_json_string)" \
  "$(printf '%s' "$IPERF3" | ol_json_string)" \
  "$(printf '%s' "$iperf3_version" | ol_json_string)" \
  "$(uname -r | ol_json_string)"
if [ -n "$missing" ]; then
  echo "guest-check: the guest image lacks: $(printf '%s\n' "$missing" | awk 'NR > 1 { printf "; " } { printf "%s", $0 }')" >&2
  exit 1
fi
OFFLOAD_LAB_GUEST_SCRIPT_6a87a55ae914ab43
