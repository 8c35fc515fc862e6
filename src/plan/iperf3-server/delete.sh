#!/usr/bin/env bash
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
