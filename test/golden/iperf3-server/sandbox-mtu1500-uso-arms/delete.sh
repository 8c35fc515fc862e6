#!/usr/bin/env bash
# offload-lab iperf3-server: src/plan/iperf3-server/delete.sh, after the stack's values
set -euo pipefail
IPERF3=iperf3
ADDR=10.77.0.1
PORT=12345
UNIT=offload-lab-iperf3-12345
PIDFILE=/run/offload-lab/iperf3-10.77.0.1-12345.pid
LOGFILE=/var/log/offload-lab/iperf3-10.77.0.1-12345.log
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
# Stops the lab's iperf3 server; nothing to do when it is already gone.
if [ -d /run/systemd/system ]; then
  systemctl stop "$UNIT" 2>/dev/null || true
fi
pid=$(our_pid)
if [ -n "$pid" ]; then
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    [ -d "/proc/$pid" ] || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
fi
rm -f "$PIDFILE"
echo "iperf3 server on $ADDR:$PORT stopped" >&2
