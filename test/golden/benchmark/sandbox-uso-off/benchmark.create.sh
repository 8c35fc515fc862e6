set -euo pipefail
# Transport: golden stand-in
TRANSPORT='guest_exec() { sh -s; }'
ADDR=10.77.0.1
PORT=12345
TAP=tap0
MTU=9000
SNAPLEN=128
MAX_PACKETS=2000
CAPTURE=1
GRACE=30
CELLS=4

WORK=$(mktemp -d "${TMPDIR:-/tmp}/offload-lab-bench.XXXXXX")
CAP_PID=""
CELL_IDS=()
cleanup() {
  if [ -n "$CAP_PID" ]; then kill -KILL "$CAP_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
# A signal ends the loop through exit, so the EXIT trap still stops the capture.
trap 'exit 143' TERM INT HUP

CAP_TOOL=""
CAP_NOTE=""
if [ "$CAPTURE" = 1 ]; then
  if [ ! -e "/sys/class/net/$TAP" ]; then CAP_NOTE="no interface $TAP on the host"
  elif command -v dumpcap >/dev/null; then CAP_TOOL=dumpcap
  elif command -v tshark >/dev/null; then CAP_TOOL=tshark
  else CAP_NOTE="neither dumpcap nor tshark is installed on the host"
  fi
  if [ -n "$CAP_TOOL" ] && ! command -v tshark >/dev/null; then CAP_NOTE="tshark is needed to read the captures"; CAP_TOOL=""; fi
else
  CAP_NOTE="capture disabled"
fi
[ -z "$CAP_NOTE" ] || echo "capture: $CAP_NOTE" >&2

if ! ss -Hltn "sport = :$PORT" 2>/dev/null | grep -q .; then
  echo "warning: nothing listens on port $PORT on this host: the cells will report the iperf3 error" >&2
fi

# start_capture ID SECONDS: capture on the tap, bounded by packet count and time.
start_capture() {
  local id=$1 seconds=$2
  CAP_PID=""
  [ -n "$CAP_TOOL" ] || return 0
  "$CAP_TOOL" -i "$TAP" -q -s "$SNAPLEN" -c "$MAX_PACKETS" -a "duration:$((seconds + GRACE))" \
    -f "udp port $PORT" -w "$WORK/$id.pcapng" 2>"$WORK/$id.capture.log" &
  CAP_PID=$!
  local i
  for ((i = 0; i < 5 * 50; i++)); do
    grep -q "Capturing on" "$WORK/$id.capture.log" 2>/dev/null && return 0
    kill -0 "$CAP_PID" 2>/dev/null || break
    sleep 0.02
  done
  echo "capture for $id did not start: $(tail -n 3 "$WORK/$id.capture.log" 2>/dev/null | tr '\n' ' ')" >&2
  kill -KILL "$CAP_PID" 2>/dev/null || true
  wait "$CAP_PID" 2>/dev/null || true
  CAP_PID=""
  rm -f "$WORK/$id.pcapng"
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

# run_cell ID SECONDS GUEST_SCRIPT
run_cell() {
  local id=$1 seconds=$2 script=$3 rc=0
  CELL_IDS+=("$id")
  echo "cell ${#CELL_IDS[@]}/$CELLS: $id" >&2
  start_capture "$id" "$seconds"
  # timeout signals its whole process group: the transport and everything it started.
  printf '%s' "$script" | timeout -k 5 "$((seconds + GRACE))" bash -c "$TRANSPORT"$'\n''guest_exec' \
    >"$WORK/$id.out" 2>"$WORK/$id.err" || rc=$?
  stop_capture
  echo "$rc" >"$WORK/$id.rc"
  [ "$rc" = 0 ] || echo "cell $id: guest exit code $rc" >&2
}

# One merge and one tshark pass over all captures: frame.interface_id is the file's index.
summarise_captures() {
  local files=() id
  for id in "${CELL_IDS[@]}"; do
    [ -f "$WORK/$id.pcapng" ] && files+=("$WORK/$id.pcapng")
  done
  [ "${#files[@]}" -gt 0 ] || return 0
  if [ "${#files[@]}" -eq 1 ]; then cp "${files[0]}" "$WORK/all.pcapng"
  elif ! mergecap -I none -w "$WORK/all.pcapng" "${files[@]}" 2>"$WORK/merge.log"; then
    echo "capture: mergecap failed: $(tail -n 3 "$WORK/merge.log" | tr '\n' ' ')" >&2
    return 0
  fi
  # A capture cut short ends in a partial packet: tshark then fails after printing the rest.
  if ! tshark -n -r "$WORK/all.pcapng" -T fields -e frame.interface_id -e frame.len >"$WORK/frames.txt" 2>"$WORK/tshark.log"; then
    echo "capture: tshark: $(grep -v 'Running as user' "$WORK/tshark.log" | tail -n 3 | tr '\n' ' ')" >&2
    [ -s "$WORK/frames.txt" ] || return 0
  fi
  awk -v over=$((MTU + 14)) '
        { n[$1]++; if ($2 > max[$1]) max[$1] = $2; if ($2 > over) big[$1]++ }
        END { for (i in n) printf "%s %d %d %d\n", i, n[i], max[i], big[i] }' "$WORK/frames.txt" >"$WORK/summary.txt"
  local index=0
  for id in "${CELL_IDS[@]}"; do
    [ -f "$WORK/$id.pcapng" ] || continue
    awk -v i="$index" '$1 == i { printf "{\"frames\":%d,\"largestFrameBytes\":%d,\"framesOverMtu\":%d}", $2, $3, $4; found = 1 }
      END { if (!found) printf "{\"frames\":0,\"largestFrameBytes\":0,\"framesOverMtu\":0}" }' \
      "$WORK/summary.txt" >"$WORK/$id.capture.json"
    index=$((index + 1))
  done
}

print_cell() {
  local id=$1 capture
  if [ -s "$WORK/$id.capture.json" ]; then capture="{\"tool\":\"$CAP_TOOL\",\"summary\":$(cat "$WORK/$id.capture.json")}"
  else
    local note=$CAP_NOTE
    if [ -z "$note" ]; then
      if [ -f "$WORK/$id.pcapng" ]; then note="the capture could not be read"; else note="the capture did not start"; fi
    fi
    capture="{\"tool\":\"$CAP_TOOL\",\"note\":\"$(printf '%s' "$note" | tr -d '"\\')\"}"
  fi
  printf '{"id":"%s","exitCode":%s,"stdout":"%s","stderr":"%s","capture":%s}\n' \
    "$id" "$(cat "$WORK/$id.rc")" "$(base64 -w0 <"$WORK/$id.out")" \
    "$(tail -c 4000 "$WORK/$id.err" | base64 -w0)" "$capture"
}

run_cell udp-1472B-mtu9000-uso-off-r1 2 '# offload-lab cell udp-1472B-mtu9000-uso-off-r1
exec timeout -k 5 32 /usr/bin/iperf3 -c 10.77.0.1 -p 12345 -u -l 1472 -b 100M -t 2 -J --get-server-output --connect-timeout 5000
'
run_cell udp-1472B-mtu9000-uso-off-r2 2 '# offload-lab cell udp-1472B-mtu9000-uso-off-r2
exec timeout -k 5 32 /usr/bin/iperf3 -c 10.77.0.1 -p 12345 -u -l 1472 -b 100M -t 2 -J --get-server-output --connect-timeout 5000
'
run_cell udp-8972B-mtu9000-uso-off-r1 2 '# offload-lab cell udp-8972B-mtu9000-uso-off-r1
exec timeout -k 5 32 /usr/bin/iperf3 -c 10.77.0.1 -p 12345 -u -l 8972 -b 100M -t 2 -J --get-server-output --connect-timeout 5000
'
run_cell udp-8972B-mtu9000-uso-off-r2 2 '# offload-lab cell udp-8972B-mtu9000-uso-off-r2
exec timeout -k 5 32 /usr/bin/iperf3 -c 10.77.0.1 -p 12345 -u -l 8972 -b 100M -t 2 -J --get-server-output --connect-timeout 5000
'

summarise_captures
for id in "${CELL_IDS[@]}"; do print_cell "$id"; done
