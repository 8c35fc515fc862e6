set -euo pipefail
# Transport: golden stand-in
TRANSPORT='guest_exec() { sh -s; }'
ADDR=10.77.0.1
PORT=12345
TAP=tap0
MTU=1500
SNAPLEN=128
MAX_PACKETS=1000000
CAPTURE=1
GRACE=30
CELLS=4

WORK=$(mktemp -d "${TMPDIR:-/tmp}/offload-lab-bench.XXXXXX")
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
  tcpdump -i "$TAP" -Q in -n -s "$SNAPLEN" -c "$MAX_PACKETS" --immediate-mode -Z root -w "$WORK/$id.pcap" "$FILTER" \
    2>"$WORK/$id.capture.log" &
  CAP_PID=$!
  local i
  for ((i = 0; i < 5 * 50; i++)); do
    grep -q "listening on" "$WORK/$id.capture.log" 2>/dev/null && return 0
    kill -0 "$CAP_PID" 2>/dev/null || break
    sleep 0.02
  done
  echo "capture for $id did not start: $(tail -n 3 "$WORK/$id.capture.log" 2>/dev/null | tr '\n' ' ')" >&2
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
  tcpdump -r "$WORK/$id.pcap" -n -e -q 2>/dev/null | sed -n 's/.* IPv4, length \([0-9]*\): .*/\1/p' \
    | jq -sc --arg tool "$CAP_TOOL" --argjson payload "$payload" --argjson total "$total" \
      --argjson max "$MAX_PACKETS" \
      '{tool: $tool, counts: {largeFrames: length, largestFrame: (max // 0),
        largeFrameDatagrams: (map(((. - 42) / $payload) | ceil) | add // 0), totalFrames: $total,
        capped: (length >= $max)}}' \
      >"$WORK/$id.capture.json"
}

USO_RECEIVER_PY='import json, signal, socket, struct, sys, time
magic = "offlab01".encode()
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
sock.bind((sys.argv[1], int(sys.argv[2])))
seen = {"datagrams": 0, "bytes": 0, "maxSequence": -1, "outOfOrder": 0, "first": None, "last": None}
def finish(*_):
    span = 0.0 if seen["first"] is None else seen["last"] - seen["first"]
    out = {k: seen[k] for k in ("datagrams", "bytes", "maxSequence", "outOfOrder")}
    out["seconds"] = span
    print(json.dumps(out), flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, finish)
print("listening", file=sys.stderr, flush=True)
while True:
    data = sock.recv(65535)
    if len(data) < 16 or data[8:16] != magic:
        continue
    now = time.monotonic()
    sequence = struct.unpack_from(">Q", data)[0]
    if sequence < seen["maxSequence"]:
        seen["outOfOrder"] += 1
    else:
        seen["maxSequence"] = sequence
    if seen["first"] is None:
        seen["first"] = now
    seen["last"] = now
    seen["datagrams"] += 1
    seen["bytes"] += len(data)
'
RECV_PID=""
# uso_receiver_start ID: the uso sender's receiver on $ADDR:$PORT (UDP), up within 5 s or noted.
uso_receiver_start() {
  local id=$1 i
  if ! command -v python3 >/dev/null; then echo "python3 is not installed on the host: the uso receiver cannot run" >"$WORK/$id.receiver.log"; return 0; fi
  python3 -c "$USO_RECEIVER_PY" "$ADDR" "$PORT" >"$WORK/$id.receiver.json" 2>"$WORK/$id.receiver.log" &
  RECV_PID=$!
  for ((i = 0; i < 250; i++)); do
    grep -q listening "$WORK/$id.receiver.log" 2>/dev/null && return 0
    kill -0 "$RECV_PID" 2>/dev/null || break
    sleep 0.02
  done
  echo "uso receiver for $id did not start: $(tail -n 3 "$WORK/$id.receiver.log" | tr '\n' ' ')" >&2
  kill -KILL "$RECV_PID" 2>/dev/null || true
  RECV_PID=""
}
uso_receiver_stop() {
  [ -n "$RECV_PID" ] || return 0
  kill -TERM "$RECV_PID" 2>/dev/null || true
  wait "$RECV_PID" 2>/dev/null || true
  RECV_PID=""
}
# uso_receiver_json ID: what the receiver counted, or null with why in the cell's stderr.
uso_receiver_json() {
  local id=$1
  if [ -s "$WORK/$id.receiver.json" ] && jq -e . "$WORK/$id.receiver.json" >/dev/null 2>&1; then jq -c . "$WORK/$id.receiver.json"
  else echo null
  fi
}

# run_cell ID SECONDS PAYLOAD SENDER GUEST_SCRIPT
run_cell() {
  local id=$1 seconds=$2 payload=$3 sender=$4 script=$5 rc=0 before after
  CELL_IDS+=("$id")
  echo "cell ${#CELL_IDS[@]}/$CELLS: $id" >&2
  start_capture "$id"
  # iperf3's server cannot read the uso sender's datagrams: its own receiver counts them.
  if [ "$sender" = uso ]; then uso_receiver_start "$id"; fi
  before=$(rx_frames)
  # timeout signals its whole process group: the transport and everything it started.
  export OL_GUEST_PID_FILE="$WORK/$id.pid"
  printf '%s' "$script" | timeout -k 5 "$((seconds + GRACE))" bash -c "$TRANSPORT"$'\n''guest_exec' \
    >"$WORK/$id.out" 2>"$WORK/$id.err" || rc=$?
  after=$(rx_frames)
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    # Only the host side was ended: stop the guest's sender too, or the next cell meets
    # "the server is busy running a test".
    timeout -k 5 60 bash -c "$TRANSPORT"$'\n''guest_stop "$1"' guest_stop "$OL_GUEST_PID_FILE" 2>>"$WORK/$id.err" || true
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
  jq -nc --arg id "$id" --argjson exitCode "$(cat "$WORK/$id.rc")" --rawfile out "$WORK/$id.out.b64" \
    --rawfile err "$WORK/$id.err.b64" --argjson capture "$capture" --argjson receiver "$(uso_receiver_json "$id")" \
    '{id: $id, exitCode: $exitCode, stdout: $out, stderr: $err, capture: $capture} + (if $receiver == null then {} else {receiver: $receiver} end)'
}

run_cell udp-1472B-plain-mtu1500-uso-on-r1 2 1472 plain '# offload-lab cell udp-1472B-plain-mtu1500-uso-on-r1
exec timeout -k 5 32 /usr/bin/iperf3 -c 10.77.0.1 -p 12345 -u -l 1472 -b 100M -t 2 -J --get-server-output --connect-timeout 5000
'
run_cell udp-1472B-plain-mtu1500-uso-on-r2 2 1472 plain '# offload-lab cell udp-1472B-plain-mtu1500-uso-on-r2
exec timeout -k 5 32 /usr/bin/iperf3 -c 10.77.0.1 -p 12345 -u -l 1472 -b 100M -t 2 -J --get-server-output --connect-timeout 5000
'
run_cell udp-1472B-gso-mtu1500-uso-on-r1 2 1472 gso '# offload-lab cell udp-1472B-gso-mtu1500-uso-on-r1
exec timeout -k 5 32 /usr/bin/iperf3 -c 10.77.0.1 -p 12345 -u -l 1472 -b 100M -t 2 -J --get-server-output --connect-timeout 5000 --gsro
'
run_cell udp-1472B-gso-mtu1500-uso-on-r2 2 1472 gso '# offload-lab cell udp-1472B-gso-mtu1500-uso-on-r2
exec timeout -k 5 32 /usr/bin/iperf3 -c 10.77.0.1 -p 12345 -u -l 1472 -b 100M -t 2 -J --get-server-output --connect-timeout 5000 --gsro
'

for id in "${CELL_IDS[@]}"; do print_cell "$id"; done
