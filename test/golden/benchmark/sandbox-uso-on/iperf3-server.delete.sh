set -euo pipefail
IPERF3=iperf3
ADDR=10.77.0.1
PORT=12345
UNIT=offload-lab-iperf3-12345
PIDFILE=/run/offload-lab/iperf3-10.77.0.1-12345.pid
LOGFILE=/var/log/offload-lab/iperf3-10.77.0.1-12345.log

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
  ss -Hltn "sport = :$PORT" 2>/dev/null | grep -q .
}

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
