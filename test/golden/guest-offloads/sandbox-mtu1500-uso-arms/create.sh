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
guest_exec <<'OFFLOAD_LAB_GUEST_SCRIPT_4f43c3ee799517aa'
# offload-lab guest-offloads (Linux guest): src/plan/guest-offloads/linux.sh, after the stack's values
set -u
OL_LINUX_INTERFACE=eth0
OL_MAC=52:54:00:5f:70:9f
MTU=1500
FEATURES=""
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
# Setting and checking ethtool features, for the host's bash and a Linux guest's POSIX sh
# alike (dash and busybox have everything used here).
#
# ol_set DEV FEATURE on|off: one `ethtool -K` per feature, so one name this kernel lacks does
# not stop the others; a refusal is appended to OL_SET_ERRORS.
# ol_check WHERE FEATURE PRINTED WANT: compares FEATURE, as `ethtool -k` prints it (PRINTED,
# see src/plan/offload/request.ts printedFeatureName), in $OL_K (saved `ethtool -k` text) with
# WANT and appends a mismatch to OL_FAIL as "WHERE: FEATURE requested WANT, actual STATE; ".
# shellcheck disable=SC2034 # OL_SET_ERRORS and OL_FAIL are read by the script that includes this
ol_set() {
  ol_err=$(ethtool -K "$1" "$2" "$3" 2>&1 >/dev/null) || OL_SET_ERRORS="$OL_SET_ERRORS$1 $2 $3: $ol_err
"
}
ol_check() {
  ol_actual=$(printf '%s\n' "$OL_K" | sed -n "s/^[[:space:]]*$3: //p" | sed -n 1p)
  [ -n "$ol_actual" ] || ol_actual=absent
  case $ol_actual in
    "$4" | "$4 "*) ;;
    *) OL_FAIL="$OL_FAIL$1: $2 requested $4, actual $ol_actual; " ;;
  esac
}
# The offload profile for a Linux guest: `ip link set mtu` and one `ethtool -K` per feature,
# then `ethtool -k` and `ip -j link` read back and printed as one JSON document. A setting that
# did not take fails the step here, with the read-back message. Bound before this: MTU, and
# FEATURES, one "FEATURE WANT PRINTED" line per feature in the order they are set (checksums
# first; PRINTED is the name `ethtool -k` prints it under). OL_DEV is the lab interface
# (linux-interface.sh); ol_set and ol_check come from ethtool-lib.sh.
: "${MTU:?}" "${FEATURES?}"
[ -n "$OL_DEV" ] || { echo "guest-offloads: $OL_DEV_WANTED" >&2; exit 2; }
OL_SET_ERRORS=
OL_FAIL=
if [ "$(cat "/sys/class/net/$OL_DEV/mtu")" != "$MTU" ]; then
  err=$(ip link set dev "$OL_DEV" mtu "$MTU" 2>&1) || OL_SET_ERRORS="$OL_SET_ERRORS$OL_DEV mtu $MTU: $err
"
fi
# POSIX sh has no arrays: the features are lines, read in this shell (not a pipe's subshell).
while read -r feature want _; do
  [ -n "$feature" ] || continue
  ol_set "$OL_DEV" "$feature" "$want"
done <<FEATURES_END
$FEATURES
FEATURES_END
OL_K=$(ethtool -k "$OL_DEV") || { echo "guest-offloads: ethtool -k $OL_DEV failed" >&2; exit 2; }
link=$(ip -j link show dev "$OL_DEV") || { echo "guest-offloads: ip -j link show $OL_DEV failed" >&2; exit 2; }
while read -r feature want printed; do
  [ -n "$feature" ] || continue
  ol_check "guest $OL_DEV" "$feature" "$printed" "$want"
done <<FEATURES_END
$FEATURES
FEATURES_END
mtu_now=$(cat "/sys/class/net/$OL_DEV/mtu")
[ "$mtu_now" = "$MTU" ] || OL_FAIL="${OL_FAIL}guest $OL_DEV: mtu requested $MTU, actual $mtu_now; "
# What `off [fixed]` for USO means on virtio-net: the device never offered the feature.
case $OL_FAIL in
  *'tx-udp-segmentation requested on, actual off [fixed]'*)
    OL_FAIL="${OL_FAIL}the virtio-net device does not offer USO (QEMU's host_uso is off, or QEMU is older than 8.2): set guest.virtioNetFeatures host_uso on; " ;;
esac
printf '{"interface":%s,"ethtoolK":%s,"ipLink":%s,"setErrors":%s}\n' \
  "$(printf '%s' "$OL_DEV" | ol_json_string)" \
  "$(printf '%s\n' "$OL_K" | ol_json_string)" \
  "$link" \
  "$(printf '%s' "$OL_SET_ERRORS" | ol_json_string)"
if [ -n "$OL_FAIL" ]; then
  echo "offload settings did not take: ${OL_FAIL%; }" >&2
  exit 1
fi
OFFLOAD_LAB_GUEST_SCRIPT_4f43c3ee799517aa
