#!/usr/bin/env bash
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
