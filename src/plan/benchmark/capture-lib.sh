# shellcheck shell=bash
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
