set -euo pipefail
# guest_exec and guest_stop: src/plan/transport/agent.sh, after the transport's values
OL_AGENT_URI=qemu:///system
OL_AGENT_DOMAIN=sandbox-lab
OL_AGENT_TIMEOUT=300
OL_AGENT_COMMAND="{\"path\":\"/bin/sh\",\"arg\":[\"-s\"]}"
OL_AGENT_STOP="{\"path\":\"/bin/kill\",\"arg\":[\"-TERM\"]}"
# guest_exec through the QEMU guest agent with `virsh qemu-agent-command`: `guest-ping` until
# the agent answers, `guest-exec` with the script as base64 `input-data`, `guest-exec-status`
# until it exits, then out-data/err-data decoded onto stdout/stderr and the guest's exit code
# returned. Bound before this: OL_AGENT_URI, OL_AGENT_DOMAIN, OL_AGENT_TIMEOUT (seconds to wait
# for the agent after boot, and again for the script to end), OL_AGENT_COMMAND and
# OL_AGENT_STOP (JSON: the guest program that reads the script on stdin; the one that ends a
# guest pid, given as its last argument).
#
# Requests are built and replies read with jq, whatever libvirt's JSON writer escapes (a json-c
# libvirt writes '/' as '\/'). The agent leaves out `out-data`/`err-data` when they are empty
# and `exitcode` when a signal ended the process (it sends `signal` then).
: "${OL_AGENT_URI:?}" "${OL_AGENT_DOMAIN:?}" "${OL_AGENT_TIMEOUT:?}" "${OL_AGENT_COMMAND:?}" "${OL_AGENT_STOP:?}"
# A status poll is a short request: it gets its own timeout (virsh's default would wait as
# long as libvirt's agent timeout, and a busy agent or a dropped reply would end the step at
# once), and a failed poll is asked again, a bounded number of times, before the step fails.
OL_AGENT_POLL_SECONDS=10
OL_AGENT_POLL_TRIES=3
ol_agent() {
  virsh -q -c "$OL_AGENT_URI" qemu-agent-command "$OL_AGENT_DOMAIN" "$1"
}
# ol_agent_poll REQUEST: the reply on stdout; after OL_AGENT_POLL_TRIES failures, the last
# error on stdout and status 1.
ol_agent_poll() {
  local try reply
  for ((try = 1; ; try++)); do
    if reply=$(virsh -q -c "$OL_AGENT_URI" qemu-agent-command --timeout "$OL_AGENT_POLL_SECONDS" "$OL_AGENT_DOMAIN" "$1" 2>&1); then
      printf '%s\n' "$reply"
      return 0
    fi
    if ((try >= OL_AGENT_POLL_TRIES)); then
      printf '%s\n' "$reply"
      return 1
    fi
    echo "guest_exec: poll $try of $OL_AGENT_POLL_TRIES in $OL_AGENT_DOMAIN failed, asking again: $reply" >&2
    sleep 1
  done
}
# A field of the reply's "return" object, printed raw; nothing when it is absent or not JSON.
ol_agent_field() {
  printf '%s' "$1" | jq -r --arg f "$2" '.return[$f] | select(. != null) | tostring' 2>/dev/null
}
guest_exec() {
  local input ping request reply err pid status code signal deadline
  input=$(base64 -w0)
  ping=$(jq -nc '{execute: "guest-ping"}')
  deadline=$((SECONDS + OL_AGENT_TIMEOUT))
  until err=$(ol_agent "$ping" 2>&1 >/dev/null); do
    if ((SECONDS >= deadline)); then
      echo "guest_exec: the guest agent of $OL_AGENT_DOMAIN did not answer within $OL_AGENT_TIMEOUT s: $err" >&2
      return 124
    fi
    sleep 1
  done
  request=$(jq -nc --argjson command "$OL_AGENT_COMMAND" --arg input "$input" \
    '{execute: "guest-exec", arguments: ($command + {"input-data": $input, "capture-output": true})}')
  reply=$(ol_agent "$request" 2>&1) || {
    echo "guest_exec: guest-exec in $OL_AGENT_DOMAIN failed: $reply" >&2
    return 125
  }
  pid=$(ol_agent_field "$reply" pid)
  if [[ ! $pid =~ ^[0-9]+$ ]]; then
    echo "guest_exec: guest-exec in $OL_AGENT_DOMAIN gave no pid: $reply" >&2
    return 125
  fi
  # For guest_stop, should the caller's deadline end this function before the guest's script.
  if [[ -n ${OL_GUEST_PID_FILE:-} ]]; then printf '%s\n' "$pid" >"$OL_GUEST_PID_FILE"; fi
  request=$(jq -nc --argjson pid "$pid" '{execute: "guest-exec-status", arguments: {pid: $pid}}')
  deadline=$((SECONDS + OL_AGENT_TIMEOUT))
  while :; do
    status=$(ol_agent_poll "$request") || {
      echo "guest_exec: guest-exec-status $pid in $OL_AGENT_DOMAIN failed $OL_AGENT_POLL_TRIES times ($OL_AGENT_POLL_SECONDS s each): $status" >&2
      return 125
    }
    [[ $(ol_agent_field "$status" exited) == true ]] && break
    if ((SECONDS >= deadline)); then
      echo "guest_exec: the guest script (pid $pid in $OL_AGENT_DOMAIN) did not end within $OL_AGENT_TIMEOUT s" >&2
      return 124
    fi
    sleep 1
  done
  ol_agent_field "$status" out-data | base64 -d
  ol_agent_field "$status" err-data | base64 -d >&2
  if [[ $(ol_agent_field "$status" out-truncated) == true || $(ol_agent_field "$status" err-truncated) == true ]]; then
    echo "guest_exec: the guest agent truncated the output of pid $pid in $OL_AGENT_DOMAIN" >&2
    return 125
  fi
  code=$(ol_agent_field "$status" exitcode)
  signal=$(ol_agent_field "$status" signal)
  if [[ -n $signal ]]; then
    echo "guest_exec: the guest script (pid $pid in $OL_AGENT_DOMAIN) was killed by signal $signal" >&2
    return 125
  fi
  if [[ ! $code =~ ^-?[0-9]+$ ]]; then
    echo "guest_exec: guest-exec-status for pid $pid in $OL_AGENT_DOMAIN has no exit code: $status" >&2
    return 125
  fi
  # A Windows exit code is 32 bits: one that is a multiple of 256 must not read as success.
  return $((code == 0 ? 0 : (code & 255) == 0 ? 1 : code & 255))
}
# guest_stop PIDFILE: ends the guest process guest_exec started (and what it started). The
# agent has no command that kills a guest process, so this is a second guest-exec.
guest_stop() {
  local pid request reply
  pid=$(cat "$1" 2>/dev/null) || true
  if [[ ! $pid =~ ^[0-9]+$ ]]; then
    echo "guest_stop: no guest pid recorded in $1" >&2
    return 125
  fi
  request=$(jq -nc --argjson stop "$OL_AGENT_STOP" --arg pid "$pid" \
    '{execute: "guest-exec", arguments: (($stop | .arg += [$pid]) + {"capture-output": true})}')
  reply=$(ol_agent "$request" 2>&1) || {
    echo "guest_stop: guest-exec of the stop for pid $pid in $OL_AGENT_DOMAIN failed: $reply" >&2
    return 125
  }
  echo "guest_stop: asked the guest to end pid $pid in $OL_AGENT_DOMAIN" >&2
}
OL_TRANSPORT="qemu-guest-agent of sandbox-lab via virsh -c qemu:///system"
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
guest_exec <<'OFFLOAD_LAB_GUEST_SCRIPT_002a330c4bc7aab6'
# offload-lab guest-check (Linux guest): src/plan/guest-check/linux.sh, after the stack's values
set -u
OL_LINUX_INTERFACE=eth0
OL_MAC=52:54:00:cc:26:bc
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
OFFLOAD_LAB_GUEST_SCRIPT_002a330c4bc7aab6
