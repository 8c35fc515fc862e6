set -euo pipefail
# guest_exec: the QEMU guest agent of linux-uso-lab via virsh
OL_AGENT_URI=qemu\:///system
OL_AGENT_DOMAIN=linux-uso-lab
OL_AGENT_TIMEOUT=300
ol_agent() {
  virsh -q -c "$OL_AGENT_URI" qemu-agent-command "$OL_AGENT_DOMAIN" "$1"
}
# A field of the reply's "return" object, printed raw; nothing when it is absent or not JSON.
ol_agent_field() {
  printf '%s' "$1" | jq -r --arg f "$2" '.return[$f] | select(. != null) | tostring' 2>/dev/null
}
ol_agent_data() {
  ol_agent_field "$1" "$2" | base64 -d
}
guest_exec() {
  local input reply err pid status code signal deadline
  input=$(base64 -w0)
  deadline=$((SECONDS + OL_AGENT_TIMEOUT))
  until err=$(ol_agent '{"execute":"guest-ping"}' 2>&1 >/dev/null); do
    if ((SECONDS >= deadline)); then
      echo "guest_exec: the guest agent of $OL_AGENT_DOMAIN did not answer within $OL_AGENT_TIMEOUT s: $err" >&2
      return 124
    fi
    sleep 1
  done
  reply=$(ol_agent '{"execute":"guest-exec","arguments":{"path":"/bin/sh","arg":["-s"],"input-data":"'"$input"'","capture-output":true}}' 2>&1) || {
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
  deadline=$((SECONDS + OL_AGENT_TIMEOUT))
  while :; do
    status=$(ol_agent '{"execute":"guest-exec-status","arguments":{"pid":'"$pid"'}}' 2>&1) || {
      echo "guest_exec: guest-exec-status $pid in $OL_AGENT_DOMAIN failed: $status" >&2
      return 125
    }
    [[ $(ol_agent_field "$status" exited) == true ]] && break
    if ((SECONDS >= deadline)); then
      echo "guest_exec: the guest script (pid $pid in $OL_AGENT_DOMAIN) did not end within $OL_AGENT_TIMEOUT s" >&2
      return 124
    fi
    sleep 1
  done
  ol_agent_data "$status" out-data
  ol_agent_data "$status" err-data >&2
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
  return $((code == 0 ? 0 : (code & 255) == 0 ? 1 : code & 255))
}
# guest_stop PIDFILE: ends the guest process guest_exec started (and what it started).
guest_stop() {
  local pid reply
  pid=$(cat "$1" 2>/dev/null) || true
  if [[ ! $pid =~ ^[0-9]+$ ]]; then
    echo "guest_stop: no guest pid recorded in $1" >&2
    return 125
  fi
  reply=$(ol_agent '{"execute":"guest-exec","arguments":{"path":"/bin/kill","arg":["-TERM","'"$pid"'"],"capture-output":true}}' 2>&1) || {
    echo "guest_stop: guest-exec of the stop for pid $pid in $OL_AGENT_DOMAIN failed: $reply" >&2
    return 125
  }
  echo "guest_stop: asked the guest to end pid $pid in $OL_AGENT_DOMAIN" >&2
}
guest_exec <<'OFFLOAD_LAB_GUEST_SCRIPT_8d8d063e71c71444'
# offload-lab guest-offloads (Linux guest, stack linux-uso-off)
set -u
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
ol_json_string() {
  tr -d '\000-\010\013\014\016-\037' | awk "$OL_AWK_JSON_ESC"'
    BEGIN { printf "\"" } { if (NR > 1) printf "\\n"; printf "%s", esc($0) } END { printf "\"" }'
}
ol_json_lines() {
  tr -d '\000-\010\013\014\016-\037' | awk "$OL_AWK_JSON_ESC"'
    BEGIN { printf "[" } { printf "%s\"%s\"", (NR > 1 ? "," : ""), esc($0) } END { printf "]" }'
}
ol_check() {
  ol_actual=$(printf '%s\n' "$OL_K" | sed -n "s/^[[:space:]]*$3: //p" | sed -n 1p)
  [ -n "$ol_actual" ] || ol_actual=absent
  case $ol_actual in
    "$4" | "$4 "*) ;;
    *) OL_FAIL="$OL_FAIL$1: $2 requested $4, actual $ol_actual; " ;;
  esac
}
ol_set() {
  ol_err=$(ethtool -K "$1" "$2" "$3" 2>&1 >/dev/null) || OL_SET_ERRORS="$OL_SET_ERRORS$1 $2 $3: $ol_err
"
}
OL_DEV=eth0
OL_DEV_WANTED="no interface $OL_DEV in the guest (guest.linuxInterface)"
[ -e "/sys/class/net/$OL_DEV" ] || OL_DEV=
[ -n "$OL_DEV" ] || { echo "guest-offloads: $OL_DEV_WANTED" >&2; exit 2; }
OL_MTU=1500
OL_SET_ERRORS=
OL_FAIL=
if [ "$(cat "/sys/class/net/$OL_DEV/mtu")" != "$OL_MTU" ]; then
  ol_err=$(ip link set dev "$OL_DEV" mtu "$OL_MTU" 2>&1) || OL_SET_ERRORS="$OL_SET_ERRORS$OL_DEV mtu $OL_MTU: $ol_err
"
fi
ol_set "$OL_DEV" tx-udp-segmentation off
OL_K=$(ethtool -k "$OL_DEV") || { echo "guest-offloads: ethtool -k $OL_DEV failed" >&2; exit 2; }
OL_LINK=$(ip -j link show dev "$OL_DEV") || { echo "guest-offloads: ip -j link show $OL_DEV failed" >&2; exit 2; }
ol_check "guest $OL_DEV" tx-udp-segmentation tx-udp-segmentation off
ol_mtu_now=$(cat "/sys/class/net/$OL_DEV/mtu")
[ "$ol_mtu_now" = "$OL_MTU" ] || OL_FAIL="${OL_FAIL}guest $OL_DEV: mtu requested $OL_MTU, actual $ol_mtu_now; "
case $OL_FAIL in *'tx-udp-segmentation requested on, actual off [fixed]'*) OL_FAIL="${OL_FAIL}""the virtio-net device does not offer USO (QEMU's host_uso is off, or QEMU is older than 8.2): set guest.virtioNetFeatures host_uso on""; " ;; esac
printf '{"interface":%s,"ethtoolK":%s,"ipLink":%s,"setErrors":%s}\n' \
  "$(printf '%s' "$OL_DEV" | ol_json_string)" \
  "$(printf '%s\n' "$OL_K" | ol_json_string)" \
  "$OL_LINK" \
  "$(printf '%s' "$OL_SET_ERRORS" | ol_json_string)"
if [ -n "$OL_FAIL" ]; then
  echo "offload settings did not take: ${OL_FAIL%; }" >&2
  exit 1
fi
OFFLOAD_LAB_GUEST_SCRIPT_8d8d063e71c71444
