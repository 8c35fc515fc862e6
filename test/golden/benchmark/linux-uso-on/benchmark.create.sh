#!/usr/bin/env bash
# offload-lab benchmark: src/plan/benchmark/benchmark.sh, after the stack's values
set -euo pipefail
TRANSPORT="guest_exec() { sh -s; }"
ADDR=10.77.0.1
PORT=12345
TAP=tap0
MTU=1500
CAPTURE=1
SNAPLEN=128
MAX_PACKETS=1000000
CAPTURE_START_SECONDS=5
GRACE=30
USO_RECEIVER_PY="# The host side of the Windows uso sender (windows-uso-cell.ps1). uso-receiver-lib.sh runs
# it as python3 -c TEXT ADDRESS PORT MAGIC: the host has no copy of this file. iperf3's
# server cannot take that sender: it accepts UDP only after a TCP control exchange (cookie,
# JSON parameters) and reads its own datagram header. So a uso cell gets this receiver
# instead, on the iperf3 port's UDP side (free between iperf3 tests). Python 3 from the Debian
# archive, standard library only. Each datagram is: an 8-byte big-endian sequence number,
# MAGIC (8 bytes), and when the payload has room, the sender's clock at the send (8 bytes,
# big-endian microseconds). It counts the lab's datagrams, their bytes, the highest sequence,
# out-of-order arrivals and the jitter of RFC 3550 (as iperf3 does, from those send times),
# and on TERM prints them as one JSON document (output.ts reads it beside the sender's report).
#
# Loss must mean loss: the socket asks for an 8 MiB receive buffer with SO_RCVBUFFORCE (the
# host side runs as root), which net.core.rmem_max does not cap (SO_RCVBUF alone is capped
# there, 416 KiB on RHEL's defaults); without the privilege it falls back to SO_RCVBUF. It
# reports which option took and the buffer the kernel really gave (getsockopt).
# Strings in single quotes: the loop binds this text in double quotes, where each double quote
# would need a backslash.
import json, signal, socket, struct, sys, time
magic = sys.argv[3].encode()
header = 8 + len(magic)
REQUESTED = 8 << 20
# SO_RCVBUFFORCE is 33 on Linux (asm-generic/socket.h); Python names it only where the C
# library header does.
SO_RCVBUFFORCE = getattr(socket, 'SO_RCVBUFFORCE', 33)
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, REQUESTED)
    option = 'SO_RCVBUFFORCE'
except PermissionError:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, REQUESTED)
    option = 'SO_RCVBUF'
sock.bind((sys.argv[1], int(sys.argv[2])))
seen = {'datagrams': 0, 'bytes': 0, 'maxSequence': -1, 'outOfOrder': 0, 'first': None, 'last': None,
        'jitter': None, 'transit': None}
def finish(*_):
    span = 0.0 if seen['first'] is None else seen['last'] - seen['first']
    out = {k: seen[k] for k in ('datagrams', 'bytes', 'maxSequence', 'outOfOrder')}
    out['seconds'] = span
    out['jitterMs'] = None if seen['jitter'] is None else seen['jitter'] * 1000.0
    out['requestedBufferBytes'] = REQUESTED
    # What the kernel gave: it doubles the request for its bookkeeping (socket(7)).
    out['bufferBytes'] = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    out['bufferOption'] = option
    print(json.dumps(out), flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, finish)
print('listening', file=sys.stderr, flush=True)
while True:
    data = sock.recv(65535)
    if len(data) < header or data[8:header] != magic:
        continue
    now = time.monotonic()
    sequence = struct.unpack_from('>Q', data)[0]
    if sequence < seen['maxSequence']:
        seen['outOfOrder'] += 1
    else:
        seen['maxSequence'] = sequence
    if len(data) >= header + 8:
        # RFC 3550 6.4.1: J += (|D| - J) / 16, D the change in transit time between arrivals.
        transit = now - struct.unpack_from('>Q', data, header)[0] / 1e6
        if seen['transit'] is not None:
            d = abs(transit - seen['transit'])
            j = seen['jitter'] or 0.0
            seen['jitter'] = j + (d - j) / 16.0
        seen['transit'] = transit
    if seen['first'] is None:
        seen['first'] = now
    seen['last'] = now
    seen['datagrams'] += 1
    seen['bytes'] += len(data)
"
USO_MAGIC=offlab01
CELL_IDS=(udp-1472B-plain-mtu1500-uso-on-r1 udp-1472B-plain-mtu1500-uso-on-r2 udp-1472B-gso-mtu1500-uso-on-r1 udp-1472B-gso-mtu1500-uso-on-r2)
CELL_SECONDS=(2 2 2 2)
CELL_PAYLOADS=(1472 1472 1472 1472)
CELL_SENDERS=(plain plain gso gso)
CELL_ARMS=("" "" "" "")
CELL_SCRIPTS=("# offload-lab cell udp-1472B-plain-mtu1500-uso-on-r1
exec timeout -k 5 32 /usr/bin/iperf3 -c 10.77.0.1 -p 12345 -u -l 1472 -b 100M -t 2 -J --get-server-output --connect-timeout 5000
" "# offload-lab cell udp-1472B-plain-mtu1500-uso-on-r2
exec timeout -k 5 32 /usr/bin/iperf3 -c 10.77.0.1 -p 12345 -u -l 1472 -b 100M -t 2 -J --get-server-output --connect-timeout 5000
" "# offload-lab cell udp-1472B-gso-mtu1500-uso-on-r1
exec timeout -k 5 32 /usr/bin/iperf3 -c 10.77.0.1 -p 12345 -u -l 1472 -b 100M -t 2 -J --get-server-output --connect-timeout 5000 --gsro
" "# offload-lab cell udp-1472B-gso-mtu1500-uso-on-r2
exec timeout -k 5 32 /usr/bin/iperf3 -c 10.77.0.1 -p 12345 -u -l 1472 -b 100M -t 2 -J --get-server-output --connect-timeout 5000 --gsro
")
USO_SWITCH_OFF=""
USO_SWITCH_ON=""
SWITCH_LIMIT=60
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
# What the host counts of one cell at no cost to the measurement: reads of counters the kernel
# keeps anyway, before and after the cell, and one receive-buffer reading during it.
#   the tap's receive counters (rx_packets, rx_bytes): every frame the guest sent arrives on the
#     tap's receive side, and the tap counts one packet per frame as the guest handed it over
#     (a USO super-frame is one packet), so bytes / packets above MTU + 14 proves super-frames;
#   the UDP counters of this network namespace, where the iperf3 server runs (/proc/net/snmp
#     `Udp:` InErrors and RcvbufErrors): datagrams the receiving socket had no room for;
#   the receive buffer the server's socket really got (`ss -uamn` skmem rb), read in the
#     background until the server's UDP socket shows, then left alone.
: "${TAP:?}" "${PORT:?}"
# Set before the loop installs its EXIT trap, which reads it.
RB_PID=""

# tap_counts: "PACKETS BYTES" of the tap's receive side, or nothing when it cannot be read.
tap_counts() {
  local packets bytes
  packets=$(cat "/sys/class/net/$TAP/statistics/rx_packets" 2>/dev/null) || return 0
  bytes=$(cat "/sys/class/net/$TAP/statistics/rx_bytes" 2>/dev/null) || return 0
  echo "$packets $bytes"
}

# udp_counts: "INERRORS RCVBUFERRORS" of this namespace's UDP, or nothing when unreadable.
udp_counts() {
  awk '$1 == "Udp:" { if (!h) { for (i = 2; i <= NF; i++) col[$i] = i; h = 1; next }
         if (col["InErrors"] && col["RcvbufErrors"]) print $col["InErrors"], $col["RcvbufErrors"]; exit }' \
    /proc/net/snmp 2>/dev/null || true
}

# rcvbuf_start ID: samples the server's UDP socket on PORT into $WORK/ID.rcvbuf, every 0.2 s,
# until it has one reading.
rcvbuf_start() {
  local id=$1
  (
    while :; do
      ss -Huamn "sport = :$PORT" >"$WORK/$id.ss" 2>/dev/null || true
      rb=$(sed -n 's/.*skmem:(.*\brb\([0-9]*\).*/\1/p' "$WORK/$id.ss" | sort -n | tail -n 1)
      if [ -n "$rb" ]; then echo "$rb" >"$WORK/$id.rcvbuf"; exit 0; fi
      sleep 0.2
    done
  ) &
  RB_PID=$!
}

rcvbuf_stop() {
  [ -n "$RB_PID" ] || return 0
  kill -KILL "$RB_PID" 2>/dev/null || true
  wait "$RB_PID" 2>/dev/null || true
  RB_PID=""
}

# counters_json ID TAP_BEFORE TAP_AFTER UDP_BEFORE UDP_AFTER: the cell's deltas; a counter that
# could not be read on either side is null.
counters_json() {
  local id=$1 rb=null
  read -r p0 b0 <<<"$2"
  read -r p1 b1 <<<"$3"
  read -r ie0 rb0 <<<"$4"
  read -r ie1 rb1 <<<"$5"
  [ -s "$WORK/$id.rcvbuf" ] && rb=$(cat "$WORK/$id.rcvbuf")
  jq -nc --arg p0 "${p0:-}" --arg p1 "${p1:-}" --arg b0 "${b0:-}" --arg b1 "${b1:-}" \
    --arg ie0 "${ie0:-}" --arg ie1 "${ie1:-}" --arg rb0 "${rb0:-}" --arg rb1 "${rb1:-}" --argjson rcvbuf "$rb" '
    def delta($a; $b): if $a == "" or $b == "" then null else ($b | tonumber) - ($a | tonumber) end;
    {tap: (if $p0 == "" or $p1 == "" then null else {frames: delta($p0; $p1), bytes: delta($b0; $b1)} end),
     udp: {inErrors: delta($ie0; $ie1), rcvbufErrors: delta($rb0; $rb1)},
     rcvbuf: $rcvbuf}'
}
# The optional capture of one cell (capture.frames): a bounded tcpdump of the guest's large
# frames on the tap, for the largest frame and the datagrams per frame. Frames the guest sends
# arrive on the tap's receive side; only those longer than MTU + 14 (BPF `greater` is >=) pass
# the kernel's filter, so an ordinary cell copies nothing to user space. With USO on every frame
# of a segmenting sender is a super-frame and is copied (64 bytes each): the counters
# (counters-lib.sh) are the evidence at no cost, this is the detail. CAP_TOOL is the capture
# program, or empty with CAP_NOTE saying why there is none.
: "${TAP:?}" "${PORT:?}" "${MTU:?}" "${CAPTURE:?}" "${SNAPLEN:?}" "${MAX_PACKETS:?}" "${CAPTURE_START_SECONDS:?}"
# Set before the loop installs its EXIT trap, which reads it.
CAP_PID=""
CAP_TOOL=""
CAP_NOTE=""
if [ "$CAPTURE" = 1 ]; then
  if [ ! -e "/sys/class/net/$TAP" ]; then CAP_NOTE="no interface $TAP on the host"
  elif command -v tcpdump >/dev/null; then CAP_TOOL=tcpdump
  else CAP_NOTE="tcpdump is not installed on the host"
  fi
  [ -z "$CAP_NOTE" ] || echo "capture: $CAP_NOTE" >&2
fi
CAP_FILTER="udp dst port $PORT and greater $((MTU + 15))"

# start_capture ID: the large frames of the guest's flow, bounded by packet count.
start_capture() {
  local id=$1 i
  CAP_PID=""
  [ -n "$CAP_TOOL" ] || return 0
  # -Z root: tcpdump would otherwise drop to its own user and fail to write into WORK.
  # --immediate-mode: without it the last ring block (up to a second of frames) is still
  # in the kernel when the cell ends, and a stopped tcpdump never reads it.
  tcpdump -i "$TAP" -Q in -n -s "$SNAPLEN" -c "$MAX_PACKETS" --immediate-mode -Z root -w "$WORK/$id.pcap" "$CAP_FILTER" \
    2>"$WORK/$id.capture.log" &
  CAP_PID=$!
  for ((i = 0; i < CAPTURE_START_SECONDS * 50; i++)); do
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
  local i
  [ -n "$CAP_PID" ] || return 0
  kill -INT "$CAP_PID" 2>/dev/null || true
  for ((i = 0; i < 250; i++)); do kill -0 "$CAP_PID" 2>/dev/null || break; sleep 0.02; done
  kill -KILL "$CAP_PID" 2>/dev/null || true
  wait "$CAP_PID" 2>/dev/null || true
  CAP_PID=""
}

# count_frames ID PAYLOAD: the large frames' lengths, each carrying ceil((len - 42) / payload)
# datagrams. A capture tcpdump cannot read leaves no counts (capture_json says so): the cell is
# still reported.
count_frames() {
  local id=$1 payload=$2
  [ -f "$WORK/$id.pcap" ] || return 0
  tcpdump -r "$WORK/$id.pcap" -n -e -q >"$WORK/$id.frames" 2>/dev/null || return 0
  sed -n 's/.* IPv4, length \([0-9]*\): .*/\1/p' "$WORK/$id.frames" \
    | jq -sc --arg tool "$CAP_TOOL" --argjson payload "$payload" --argjson max "$MAX_PACKETS" \
      '{tool: $tool, counts: {largeFrames: length, largestFrame: (max // 0),
        largeFrameDatagrams: (map(((. - 42) / $payload) | ceil) | add // 0), capped: (length >= $max)}}' \
      >"$WORK/$id.capture.json"
}

# capture_json ID: the cell's capture, why there is none, or null when capture.frames is off.
capture_json() {
  local id=$1 note=$CAP_NOTE
  if [ "$CAPTURE" != 1 ]; then
    echo null
    return 0
  fi
  if [ -s "$WORK/$id.capture.json" ]; then
    cat "$WORK/$id.capture.json"
    return 0
  fi
  if [ -z "$note" ]; then
    if [ -f "$WORK/$id.pcap" ]; then note="the capture could not be read"; else note="the capture did not start"; fi
  fi
  jq -nc --arg tool "$CAP_TOOL" --arg note "$note" '{tool: $tool, note: $note}'
}
# The uso sender's receiver on the KVM host (uso-receiver.py, bound as USO_RECEIVER_PY), for
# the cells whose sender is `uso`: uso_receiver_start ID / uso_receiver_stop around the cell,
# uso_receiver_json ID for its line. What it counted lands in $WORK/ID.receiver.json.
: "${USO_RECEIVER_PY:?}" "${USO_MAGIC:?}" "${ADDR:?}" "${PORT:?}"
# Set before the loop installs its EXIT trap, which reads it.
RECV_PID=""

# uso_receiver_start ID: the receiver on $ADDR:$PORT (UDP), up within 5 s or noted.
uso_receiver_start() {
  local id=$1 i
  if ! command -v python3 >/dev/null; then
    echo "python3 is not installed on the host: the uso receiver cannot run" >"$WORK/$id.receiver.log"
    return 0
  fi
  python3 -c "$USO_RECEIVER_PY" "$ADDR" "$PORT" "$USO_MAGIC" >"$WORK/$id.receiver.json" 2>"$WORK/$id.receiver.log" &
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

# uso_receiver_json ID: what the receiver counted, or null (why is in the step's stderr).
uso_receiver_json() {
  local id=$1
  if [ -s "$WORK/$id.receiver.json" ] && jq -e . "$WORK/$id.receiver.json" >/dev/null 2>&1; then
    jq -c . "$WORK/$id.receiver.json"
  else
    echo null
  fi
}
# The matrix, run from the KVM host, one cell after another. Per cell: with in-lab arms the
# guest's USO switched to the cell's arm and read back (its own guest script through the
# transport; a switch that did not take fails the cell, which keeps its place), then the
# counters before (counters-lib.sh: the tap's, and UDP's in this namespace, where the server
# runs), the receive-buffer sampler, the capture when capture.frames is on (capture-lib.sh), the
# uso receiver for a `uso` cell (uso-receiver-lib.sh), the cell's guest script through the
# transport under a deadline, and the counters after. A failed cell is data, never a failed
# step. At the end one JSON line per cell, in plan order (output.ts is its schema).
#
# The cells, one index each: CELL_IDS, CELL_SECONDS (the cell's duration), CELL_PAYLOADS,
# CELL_SENDERS, CELL_ARMS (off, on, or empty without in-lab arms) and CELL_SCRIPTS (its guest
# script, in the guest's language). USO_SWITCH_OFF and USO_SWITCH_ON are the switch's guest
# scripts, SWITCH_LIMIT its deadline in seconds. TRANSPORT is the transport's bash, defining
# guest_exec and guest_stop (src/plan/transport/): each guest script runs in a bash of its own,
# so a deadline ends the whole process group it started.
: "${TRANSPORT:?}" "${ADDR:?}" "${PORT:?}" "${GRACE:?}" "${SWITCH_LIMIT:?}"
: "${CELL_IDS[@]:?}" "${CELL_SECONDS[@]:?}" "${CELL_PAYLOADS[@]:?}" "${CELL_SENDERS[@]:?}" "${CELL_ARMS[@]?}" "${CELL_SCRIPTS[@]:?}"
: "${USO_SWITCH_OFF?}" "${USO_SWITCH_ON?}"

cleanup() {
  if [ -n "$CAP_PID" ]; then kill -KILL "$CAP_PID" 2>/dev/null || true; fi
  if [ -n "$RECV_PID" ]; then kill -KILL "$RECV_PID" 2>/dev/null || true; fi
  if [ -n "$RB_PID" ]; then kill -KILL "$RB_PID" 2>/dev/null || true; fi
  rm -rf -- "$WORK"
}
trap cleanup EXIT
# A signal ends the loop through exit, so the EXIT trap still stops the capture.
trap 'exit 143' TERM INT HUP

ss -Hltn "sport = :$PORT" >"$WORK/listening" 2>/dev/null || true
if [ ! -s "$WORK/listening" ]; then
  echo "warning: nothing listens on port $PORT on this host: the cells will report the iperf3 error" >&2
fi

# switch_arm INDEX: the guest's USO to the cell's arm; its read-back and exit code in WORK.
switch_arm() {
  local i=$1 id=${CELL_IDS[$1]} arm=${CELL_ARMS[$1]} script rc=0
  if [ "$arm" = on ]; then script=$USO_SWITCH_ON; else script=$USO_SWITCH_OFF; fi
  export OL_GUEST_PID_FILE="$WORK/$id.switch.pid"
  printf '%s' "$script" | timeout -k 5 "$SWITCH_LIMIT" bash -c "$TRANSPORT"$'\n''guest_exec' \
    >"$WORK/$id.switch.out" 2>"$WORK/$id.switch.err" || rc=$?
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    # As for a cell: a switch cut short on the host may still run in the guest.
    # shellcheck disable=SC2016 # $1 is guest_stop's argument, expanded by the inner bash
    timeout -k 5 60 bash -c "$TRANSPORT"$'\n''guest_stop "$1"' guest_stop "$OL_GUEST_PID_FILE" 2>>"$WORK/$id.switch.err" || true
  fi
  echo "$rc" >"$WORK/$id.switch.rc"
  return "$rc"
}

# run_cell INDEX
run_cell() {
  local i=$1 rc=0 tap0 tap1 udp0 udp1 t0
  local id=${CELL_IDS[$i]} seconds=${CELL_SECONDS[$i]} payload=${CELL_PAYLOADS[$i]} sender=${CELL_SENDERS[$i]} arm=${CELL_ARMS[$i]}
  t0=$EPOCHREALTIME
  echo "cell $((i + 1))/${#CELL_IDS[@]}: $id" >&2
  : >"$WORK/$id.out"
  : >"$WORK/$id.err"
  echo null >"$WORK/$id.counters.json"
  if [ -n "$arm" ] && ! switch_arm "$i"; then
    echo "cell $id: the switch to USO $arm did not take: $(tail -n 1 "$WORK/$id.switch.err")" >&2
    cp "$WORK/$id.switch.rc" "$WORK/$id.rc"
    echo "$t0 $EPOCHREALTIME" >"$WORK/$id.wall"
    return 0
  fi
  udp0=$(udp_counts)
  tap0=$(tap_counts)
  rcvbuf_start "$id"
  start_capture "$id"
  # iperf3's server cannot read the uso sender's datagrams: its own receiver counts them.
  if [ "$sender" = uso ]; then uso_receiver_start "$id"; fi
  # timeout signals its whole process group: the transport and everything it started.
  export OL_GUEST_PID_FILE="$WORK/$id.pid"
  printf '%s' "${CELL_SCRIPTS[$i]}" | timeout -k 5 "$((seconds + GRACE))" bash -c "$TRANSPORT"$'\n''guest_exec' \
    >"$WORK/$id.out" 2>"$WORK/$id.err" || rc=$?
  tap1=$(tap_counts)
  udp1=$(udp_counts)
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    # Only the host side was ended: stop the guest's sender too, or the next cell meets
    # "the server is busy running a test".
    # shellcheck disable=SC2016 # $1 is guest_stop's argument, expanded by the inner bash
    timeout -k 5 60 bash -c "$TRANSPORT"$'\n''guest_stop "$1"' guest_stop "$OL_GUEST_PID_FILE" 2>>"$WORK/$id.err" || true
  fi
  uso_receiver_stop
  stop_capture
  rcvbuf_stop
  echo "$rc" >"$WORK/$id.rc"
  [ "$rc" = 0 ] || echo "cell $id: guest exit code $rc" >&2
  counters_json "$id" "$tap0" "$tap1" "$udp0" "$udp1" >"$WORK/$id.counters.json"
  count_frames "$id" "$payload"
  echo "$t0 $EPOCHREALTIME" >"$WORK/$id.wall"
}

# switch_json ID ARM: the switch's exit code, its read-back (the guest's stdout) and its
# stderr's tail, or null without in-lab arms.
switch_json() {
  local id=$1 arm=$2
  if [ -z "$arm" ]; then
    echo null
    return 0
  fi
  base64 -w0 <"$WORK/$id.switch.out" >"$WORK/$id.switch.out.b64"
  tail -c 2000 "$WORK/$id.switch.err" | base64 -w0 >"$WORK/$id.switch.err.b64"
  jq -nc --arg arm "$arm" --argjson exitCode "$(cat "$WORK/$id.switch.rc")" --rawfile out "$WORK/$id.switch.out.b64" \
    --rawfile err "$WORK/$id.switch.err.b64" '{arm: $arm, exitCode: $exitCode, stdout: $out, stderr: $err}'
}

# print_cell INDEX: the cell's line. base64 keeps the guest's bytes exact; files keep them off
# the command line.
print_cell() {
  local i=$1 id=${CELL_IDS[$1]} wall w0 w1
  base64 -w0 <"$WORK/$id.out" >"$WORK/$id.out.b64"
  tail -c 4000 "$WORK/$id.err" | base64 -w0 >"$WORK/$id.err.b64"
  read -r w0 w1 <"$WORK/$id.wall"
  wall=$(awk -v a="$w0" -v b="$w1" 'BEGIN { printf "%.3f", b - a }')
  jq -nc --arg id "$id" --argjson exitCode "$(cat "$WORK/$id.rc")" --rawfile out "$WORK/$id.out.b64" \
    --rawfile err "$WORK/$id.err.b64" --argjson switch "$(switch_json "$id" "${CELL_ARMS[$i]}")" \
    --argjson counters "$(cat "$WORK/$id.counters.json")" --argjson capture "$(capture_json "$id")" \
    --argjson receiver "$(uso_receiver_json "$id")" --argjson wallSeconds "$wall" \
    '{id: $id, exitCode: $exitCode, stdout: $out, stderr: $err, wallSeconds: $wallSeconds}
      + (if $switch == null then {} else {switch: $switch} end)
      + (if $counters == null then {} else {counters: $counters} end)
      + (if $capture == null then {} else {capture: $capture} end)
      + (if $receiver == null then {} else {receiver: $receiver} end)'
}

for i in "${!CELL_IDS[@]}"; do run_cell "$i"; done
for i in "${!CELL_IDS[@]}"; do print_cell "$i"; done
