#!/usr/bin/env bash
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
