# shellcheck shell=bash
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
