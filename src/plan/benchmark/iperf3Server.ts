import type { LabConfig } from "../../config/model";
import { sh } from "../quote";
import type { Step } from "../step";

/** Seconds the server gets to listen after start; a server that does not is reported dead. */
export const SERVER_START_SECONDS = 10;

/** Where the daemon's pidfile and log live on the host, one pair per address and port. */
export function iperf3ServerFiles(cfg: LabConfig): { unit: string; pidfile: string; logfile: string } {
  const tag = `${cfg.network.hostAddress}-${cfg.iperf3.port}`;
  return {
    unit: `offload-lab-iperf3-${cfg.iperf3.port}`,
    pidfile: `/run/offload-lab/iperf3-${tag}.pid`,
    logfile: `/var/log/offload-lab/iperf3-${tag}.log`,
  };
}

function header(cfg: LabConfig): string {
  const f = iperf3ServerFiles(cfg);
  return `set -euo pipefail
IPERF3=${sh(cfg.iperf3.binary)}
ADDR=${sh(cfg.network.hostAddress)}
PORT=${sh(cfg.iperf3.port)}
UNIT=${sh(f.unit)}
PIDFILE=${sh(f.pidfile)}
LOGFILE=${sh(f.logfile)}

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
`;
}

function createScript(cfg: LabConfig): string {
  return `${header(cfg)}
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
    systemd-run --quiet --collect --unit="$UNIT" -- "$(command -v "$IPERF3")" "\${args[@]}" >&2 || started=$?
  else
    mkdir -p "$(dirname "$PIDFILE")" "$(dirname "$LOGFILE")"
    rm -f "$PIDFILE"
    "$IPERF3" "\${args[@]}" -D -I "$PIDFILE" --logfile "$LOGFILE" || started=$?
  fi
  if [ "\${started:-0}" != 0 ]; then
    echo "iperf3 server on $ADDR:$PORT could not be started (exit \${started})" >&2
    tail -n 20 "$LOGFILE" >&2 2>/dev/null || true
    exit 1
  fi
  echo "iperf3 server starting on $ADDR:$PORT" >&2
fi

for _ in $(seq $((${SERVER_START_SECONDS} * 10))); do
  pid=$(our_pid)
  if [ -n "$pid" ] && listening; then
    version=$("$IPERF3" --version 2>/dev/null | head -n1 | tr -d '"\\\\')
    manager=daemon
    [ -d /run/systemd/system ] && manager=systemd
    printf '{"pid":%s,"address":"%s","port":%s,"version":"%s","manager":"%s"}\\n' "$pid" "$ADDR" "$PORT" "$version" "$manager"
    exit 0
  fi
  sleep 0.1
done
echo "iperf3 server on $ADDR:$PORT did not come up within ${SERVER_START_SECONDS} s; last log lines:" >&2
tail -n 20 "$LOGFILE" >&2 2>/dev/null || journalctl -u "$UNIT" -n 20 --no-pager >&2 2>/dev/null || true
exit 1
`;
}

function deleteScript(cfg: LabConfig): string {
  return `${header(cfg)}
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
`;
}

/**
 * The iperf3 server on the KVM host, started so it outlives the session that started it:
 * a transient systemd unit where systemd runs, otherwise iperf3's own daemon mode.
 * Its stdout is one JSON document: pid, address, port, version, manager.
 */
export function iperf3ServerStep(cfg: LabConfig): Step {
  return {
    name: "iperf3-server",
    component: "Iperf3Server",
    runsOn: "host",
    language: "sh",
    create: createScript(cfg),
    delete: deleteScript(cfg),
    // The server binds to the bridge's address, which exists once the network is up.
    dependsOn: ["network"],
    triggers: [cfg.network.hostAddress, String(cfg.iperf3.port), cfg.iperf3.binary],
  };
}
