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

pid=$(our_pid)
if [ -z "$pid" ]; then
  if listening; then
    echo "port $PORT is already taken by another program:" >&2
    ss -Hltnp "sport = :$PORT" >&2 || true
    exit 1
  fi
  # -J: clients asking --get-server-output get the receiver's intervals as JSON.
  args=(-s -J -p "$PORT" -B "$ADDR")
  if [ -d /run/systemd/system ]; then
    systemctl reset-failed "$UNIT" 2>/dev/null || true
    systemd-run --quiet --collect --unit="$UNIT" -- "$(command -v "$IPERF3")" "${args[@]}" >&2 || started=$?
  else
    mkdir -p "$(dirname "$PIDFILE")" "$(dirname "$LOGFILE")"
    rm -f "$PIDFILE"
    "$IPERF3" "${args[@]}" -D -I "$PIDFILE" --logfile "$LOGFILE" || started=$?
  fi
  if [ "${started:-0}" != 0 ]; then
    echo "iperf3 server on $ADDR:$PORT could not be started (exit ${started})" >&2
    tail -n 20 "$LOGFILE" >&2 2>/dev/null || true
    exit 1
  fi
  echo "iperf3 server starting on $ADDR:$PORT" >&2
fi

for _ in $(seq $((10 * 10))); do
  pid=$(our_pid)
  if [ -n "$pid" ] && listening; then
    version=$("$IPERF3" --version 2>/dev/null | head -n1 | tr -d '"\\')
    manager=daemon
    [ -d /run/systemd/system ] && manager=systemd
    printf '{"pid":%s,"address":"%s","port":%s,"version":"%s","manager":"%s"}\n' "$pid" "$ADDR" "$PORT" "$version" "$manager"
    exit 0
  fi
  sleep 0.1
done
echo "iperf3 server on $ADDR:$PORT did not come up within 10 s; last log lines:" >&2
tail -n 20 "$LOGFILE" >&2 2>/dev/null || journalctl -u "$UNIT" -n 20 --no-pager >&2 2>/dev/null || true
exit 1
