import { sh } from "../quote";
import { USO_DATAGRAM_MAGIC } from "./windowsCell";

/**
 * The host side of the Windows `uso` sender. iperf3's server cannot take it: it accepts UDP
 * only after a TCP control exchange (cookie, JSON parameters) and reads its own datagram
 * header. So for a `uso` cell the loop runs this receiver instead, on the iperf3 port's UDP
 * side (free between iperf3 tests): Python 3 from the Debian archive (`python3`), standard
 * library only. It counts the lab's datagrams (sequence number + magic), bytes, the highest
 * sequence and out-of-order arrivals, and on TERM prints them as one JSON document; the
 * results side turns sender and receiver counts into loss and throughput.
 */
const RECEIVER_PY = `import json, signal, socket, struct, sys, time
magic = ${JSON.stringify(USO_DATAGRAM_MAGIC)}.encode()
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
`;

/** Bash for the benchmark loop: uso_receiver_start ID / uso_receiver_stop, writing $WORK/ID.receiver.json. */
export function usoReceiverSh(): string {
  return `USO_RECEIVER_PY=${sh(RECEIVER_PY)}
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
  echo "uso receiver for $id did not start: $(tail -n 3 "$WORK/$id.receiver.log" | tr '\\n' ' ')" >&2
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
}`;
}
