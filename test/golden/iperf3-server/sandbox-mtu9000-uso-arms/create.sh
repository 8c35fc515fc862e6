#!/usr/bin/env bash
# offload-lab iperf3-server: src/plan/iperf3-server/create.sh, after the stack's values
set -euo pipefail
IPERF3=iperf3
ADDR=10.77.0.1
PORT=12345
UNIT=offload-lab-iperf3-12345
PIDFILE=/run/offload-lab/iperf3-10.77.0.1-12345.pid
LOGFILE=/var/log/offload-lab/iperf3-10.77.0.1-12345.log
START_SECONDS=10
# What every host script may call. Config values are bound above this by the generated
# preamble; tool output goes to files under $WORK (under pipefail a reader that stops early,
# like head or grep -q, could fail a pipeline through the writer's SIGPIPE).
export LC_ALL=C
# shellcheck disable=SC2317 # shared by every host step: a step that never calls it leaves it unreachable
fail() { printf 'offload-lab: %s\n' "$*" >&2; exit 1; }
# shellcheck disable=SC2317 # likewise
note() { printf 'offload-lab: %s\n' "$*" >&2; }
WORK=$(mktemp -d)
trap 'rm -rf -- "$WORK"' EXIT
# What create and delete share: how to find the lab's own iperf3 server, whichever way it was
# started (a transient systemd unit where systemd runs, iperf3's daemon mode otherwise).
: "${IPERF3:?}" "${ADDR:?}" "${PORT:?}" "${UNIT:?}" "${PIDFILE:?}" "${LOGFILE:?}"

# Our server: the pid in the pidfile (or the unit's main pid) is alive and is iperf3.
our_pid() {
  local pid=""
  if [ -d /run/systemd/system ]; then
    pid=$(systemctl show -p MainPID --value "$UNIT" 2>/dev/null || true)
  elif [ -s "$PIDFILE" ]; then
    pid=$(tr -dc 0-9 <"$PIDFILE")
  fi
  if [ -n "$pid" ] && [ "$pid" != 0 ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = iperf3 ]; then
    echo "$pid"
  fi
}

listening() {
  ss -Hltn "sport = :$PORT" >"$WORK/listening" 2>/dev/null || true
  [ -s "$WORK/listening" ]
}
# The iperf3 server on the KVM host, started so it outlives the session that started it.
# Prints one JSON document: pid, address, port, version, manager.
: "${START_SECONDS:?}"
pid=$(our_pid)
if [ -z "$pid" ]; then
  if listening; then
    echo "port $PORT is already taken by another program:" >&2
    ss -Hltnp "sport = :$PORT" >&2 || true
    exit 1
  fi
  # -J: clients asking --get-server-output get the receiver's intervals as JSON.
  args=(-s -J -p "$PORT" -B "$ADDR")
  started=0
  if [ -d /run/systemd/system ]; then
    systemctl reset-failed "$UNIT" 2>/dev/null || true
    systemd-run --quiet --collect --unit="$UNIT" -- "$(command -v "$IPERF3")" "${args[@]}" >&2 || started=$?
  else
    mkdir -p "$(dirname "$PIDFILE")" "$(dirname "$LOGFILE")"
    rm -f "$PIDFILE"
    "$IPERF3" "${args[@]}" -D -I "$PIDFILE" --logfile "$LOGFILE" || started=$?
  fi
  if [ "$started" != 0 ]; then
    echo "iperf3 server on $ADDR:$PORT could not be started (exit $started)" >&2
    tail -n 20 "$LOGFILE" >&2 2>/dev/null || true
    exit 1
  fi
  echo "iperf3 server starting on $ADDR:$PORT" >&2
fi

for _ in $(seq $((START_SECONDS * 10))); do
  pid=$(our_pid)
  if [ -n "$pid" ] && listening; then
    "$IPERF3" --version >"$WORK/version" 2>/dev/null || true
    manager=daemon
    [ -d /run/systemd/system ] && manager=systemd
    jq -nc --argjson pid "$pid" --arg address "$ADDR" --argjson port "$PORT" \
      --rawfile version "$WORK/version" --arg manager "$manager" \
      '{pid: $pid, address: $address, port: $port, version: ($version | split("\n")[0]), manager: $manager}'
    exit 0
  fi
  sleep 0.1
done
echo "iperf3 server on $ADDR:$PORT did not come up within $START_SECONDS s; last log lines:" >&2
tail -n 20 "$LOGFILE" >&2 2>/dev/null || journalctl -u "$UNIT" -n 20 --no-pager >&2 2>/dev/null || true
exit 1
