import type { LabConfig } from "../../config/model";
import { sh } from "../quote";
import type { Step } from "../step";
import type { Transport } from "../transport/transport";
import { GUEST_NETWORK_STEP } from "../guestNetwork";
import { type Cell, planCells } from "./cells";
import { CELL_GRACE_SECONDS, guestCellScript } from "./guestCell";
import { usoReceiverSh } from "./usoReceiver";

/** Seconds a capture gets to start before the cell runs without it. */
const CAPTURE_START_SECONDS = 5;

/**
 * The host-side loop over the matrix. Per cell: the tap's receive counter before and after
 * (every frame the guest sent), a kernel-side filter that lets only the guest's frames longer
 * than MTU + 14 reach user space (so an ordinary cell copies nothing and takes no CPU from the
 * measurement), and the guest cell script through the transport under a deadline. A failed
 * cell is data, never a failed step; one JSON line per cell is printed at the end.
 */
function benchmarkScript(cfg: LabConfig, transport: Transport, cells: readonly Cell[]): string {
  const calls = cells
    .map((c) => `run_cell ${sh(c.id)} ${sh(c.durationSeconds)} ${sh(c.payloadBytes)} ${sh(c.sender)} ${sh(guestCellScript(cfg, c))}`)
    .join("\n");
  return `set -euo pipefail
# Transport: ${transport.description.replace(/[\r\n]+/g, " ")}
TRANSPORT=${sh(transport.functionDefinition)}
ADDR=${sh(cfg.network.hostAddress)}
PORT=${sh(cfg.iperf3.port)}
TAP=${sh(cfg.guest.tapName)}
MTU=${sh(cfg.offloads.mtu)}
SNAPLEN=${sh(cfg.capture.snapLength)}
MAX_PACKETS=${sh(cfg.capture.maxPackets)}
CAPTURE=${cfg.capture.enabled ? 1 : 0}
GRACE=${CELL_GRACE_SECONDS}
CELLS=${cells.length}

WORK=$(mktemp -d "\${TMPDIR:-/tmp}/offload-lab-bench.XXXXXX")
CAP_PID=""
CELL_IDS=()
cleanup() {
  if [ -n "$CAP_PID" ]; then kill -KILL "$CAP_PID" 2>/dev/null || true; fi
  if [ -n "$RECV_PID" ]; then kill -KILL "$RECV_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
# A signal ends the loop through exit, so the EXIT trap still stops the capture.
trap 'exit 143' TERM INT HUP

CAP_TOOL=""
CAP_NOTE=""
if [ "$CAPTURE" = 1 ]; then
  if [ ! -e "/sys/class/net/$TAP" ]; then CAP_NOTE="no interface $TAP on the host"
  elif command -v tcpdump >/dev/null; then CAP_TOOL=tcpdump
  else CAP_NOTE="tcpdump is not installed on the host"
  fi
else
  CAP_NOTE="capture disabled"
fi
[ -z "$CAP_NOTE" ] || echo "capture: $CAP_NOTE" >&2

# Frames the guest sends arrive on the tap (its receive side). Only those longer than
# MTU + 14 (BPF "greater" is >=) pass the kernel's filter.
FILTER="udp dst port $PORT and greater $((MTU + 15))"

if ! ss -Hltn "sport = :$PORT" 2>/dev/null | grep -q .; then
  echo "warning: nothing listens on port $PORT on this host: the cells will report the iperf3 error" >&2
fi

rx_frames() { cat "/sys/class/net/$TAP/statistics/rx_packets" 2>/dev/null || echo -1; }

# start_capture ID: the large frames of the guest's flow, bounded by packet count.
start_capture() {
  local id=$1
  CAP_PID=""
  [ -n "$CAP_TOOL" ] || return 0
  # -Z root: tcpdump would otherwise drop to its own user and fail to write into WORK.
  # --immediate-mode: without it the last ring block (up to a second of frames) is still
  # in the kernel when the cell ends, and a stopped tcpdump never reads it.
  tcpdump -i "$TAP" -Q in -n -s "$SNAPLEN" -c "$MAX_PACKETS" --immediate-mode -Z root -w "$WORK/$id.pcap" "$FILTER" \\
    2>"$WORK/$id.capture.log" &
  CAP_PID=$!
  local i
  for ((i = 0; i < ${CAPTURE_START_SECONDS} * 50; i++)); do
    grep -q "listening on" "$WORK/$id.capture.log" 2>/dev/null && return 0
    kill -0 "$CAP_PID" 2>/dev/null || break
    sleep 0.02
  done
  echo "capture for $id did not start: $(tail -n 3 "$WORK/$id.capture.log" 2>/dev/null | tr '\\n' ' ')" >&2
  kill -KILL "$CAP_PID" 2>/dev/null || true
  wait "$CAP_PID" 2>/dev/null || true
  CAP_PID=""
  rm -f "$WORK/$id.pcap"
}

stop_capture() {
  [ -n "$CAP_PID" ] || return 0
  kill -INT "$CAP_PID" 2>/dev/null || true
  local i
  for ((i = 0; i < 250; i++)); do kill -0 "$CAP_PID" 2>/dev/null || break; sleep 0.02; done
  kill -KILL "$CAP_PID" 2>/dev/null || true
  wait "$CAP_PID" 2>/dev/null || true
  CAP_PID=""
}

# count_frames ID PAYLOAD TOTAL: the large frames' lengths, each carrying ceil((len - 42) / payload) datagrams.
count_frames() {
  local id=$1 payload=$2 total=$3
  [ -f "$WORK/$id.pcap" ] || return 0
  tcpdump -r "$WORK/$id.pcap" -n -e -q 2>/dev/null | sed -n 's/.* IPv4, length \\([0-9]*\\): .*/\\1/p' \\
    | jq -sc --arg tool "$CAP_TOOL" --argjson payload "$payload" --argjson total "$total" \\
      --argjson max "$MAX_PACKETS" \\
      '{tool: $tool, counts: {largeFrames: length, largestFrame: (max // 0),
        largeFrameDatagrams: (map(((. - 42) / $payload) | ceil) | add // 0), totalFrames: $total,
        capped: (length >= $max)}}' \\
      >"$WORK/$id.capture.json"
}

${usoReceiverSh()}

# run_cell ID SECONDS PAYLOAD SENDER GUEST_SCRIPT
run_cell() {
  local id=$1 seconds=$2 payload=$3 sender=$4 script=$5 rc=0 before after
  CELL_IDS+=("$id")
  echo "cell \${#CELL_IDS[@]}/$CELLS: $id" >&2
  start_capture "$id"
  # iperf3's server cannot read the uso sender's datagrams: its own receiver counts them.
  if [ "$sender" = uso ]; then uso_receiver_start "$id"; fi
  before=$(rx_frames)
  # timeout signals its whole process group: the transport and everything it started.
  export OL_GUEST_PID_FILE="$WORK/$id.pid"
  printf '%s' "$script" | timeout -k 5 "$((seconds + GRACE))" bash -c "$TRANSPORT"$'\\n''guest_exec' \\
    >"$WORK/$id.out" 2>"$WORK/$id.err" || rc=$?
  after=$(rx_frames)
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    # Only the host side was ended: stop the guest's sender too, or the next cell meets
    # "the server is busy running a test".
    timeout -k 5 60 bash -c "$TRANSPORT"$'\\n''guest_stop "$1"' guest_stop "$OL_GUEST_PID_FILE" 2>>"$WORK/$id.err" || true
  fi
  uso_receiver_stop
  stop_capture
  echo "$rc" >"$WORK/$id.rc"
  [ "$rc" = 0 ] || echo "cell $id: guest exit code $rc" >&2
  if [ "$before" -ge 0 ] && [ "$after" -ge "$before" ]; then count_frames "$id" "$payload" "$((after - before))"; fi
}

print_cell() {
  local id=$1 capture note
  if [ -s "$WORK/$id.capture.json" ]; then capture=$(cat "$WORK/$id.capture.json")
  else
    note=$CAP_NOTE
    if [ -z "$note" ]; then
      if [ -f "$WORK/$id.pcap" ]; then note="the capture could not be read"; else note="the capture did not start"; fi
    fi
    capture=$(jq -nc --arg tool "$CAP_TOOL" --arg note "$note" '{tool: $tool, note: $note}')
  fi
  # base64 keeps the guest's bytes exact; files keep them off the command line.
  base64 -w0 <"$WORK/$id.out" >"$WORK/$id.out.b64"
  tail -c 4000 "$WORK/$id.err" | base64 -w0 >"$WORK/$id.err.b64"
  jq -nc --arg id "$id" --argjson exitCode "$(cat "$WORK/$id.rc")" --rawfile out "$WORK/$id.out.b64" \\
    --rawfile err "$WORK/$id.err.b64" --argjson capture "$capture" --argjson receiver "$(uso_receiver_json "$id")" \\
    '{id: $id, exitCode: $exitCode, stdout: $out, stderr: $err, capture: $capture} + (if $receiver == null then {} else {receiver: $receiver} end)'
}

${calls}

for id in "\${CELL_IDS[@]}"; do print_cell "$id"; done
`;
}

/** Everything whose change should re-run the matrix, and nothing that would reprovision. */
function benchmarkTriggers(cfg: LabConfig, transport: Transport): string[] {
  return [
    cfg.benchmark.runId,
    JSON.stringify(cfg.matrix),
    JSON.stringify(cfg.capture),
    String(cfg.iperf3.port),
    cfg.guest.iperf3Path,
    transport.description,
  ];
}

/**
 * The benchmark: ONE host step that runs every cell of the matrix in order and prints one
 * JSON line per cell (see results/benchmark.ts for the line and its parser).
 */
export function benchmarkStep(cfg: LabConfig, transport: Transport): Step {
  return {
    name: "benchmark",
    component: "Benchmark",
    runsOn: "host",
    language: "sh",
    create: benchmarkScript(cfg, transport, planCells(cfg)),
    // guest-network: the guest has its address and a route to the host, or no cell can connect.
    dependsOn: ["iperf3-server", "guest-offloads", "host-offloads", GUEST_NETWORK_STEP],
    triggers: benchmarkTriggers(cfg, transport),
  };
}
