#!/usr/bin/env bash
# The matrix, run from the KVM host, one cell after another: per cell the tap's counter and a
# capture of the guest's large frames (capture-lib.sh), the uso receiver for a `uso` cell
# (uso-receiver-lib.sh), and the cell's guest script through the transport under a deadline.
# A failed cell is data, never a failed step. At the end one JSON line per cell, in plan order:
# id, exitCode, base64 of the guest's stdout and of its stderr's tail, capture, and receiver
# for a `uso` cell (output.ts is its schema).
#
# The cells, one index each: CELL_IDS, CELL_SECONDS (the cell's duration), CELL_PAYLOADS,
# CELL_SENDERS and CELL_SCRIPTS (its guest script, in the guest's language). TRANSPORT is the
# transport's bash, defining guest_exec and guest_stop (src/plan/transport/): a cell runs it in
# a bash of its own, so the cell's deadline ends the whole process group it started.
: "${TRANSPORT:?}" "${ADDR:?}" "${PORT:?}" "${GRACE:?}" "${FIREWALL:?}"
: "${CELL_IDS[@]:?}" "${CELL_SECONDS[@]:?}" "${CELL_PAYLOADS[@]:?}" "${CELL_SENDERS[@]:?}" "${CELL_SCRIPTS[@]:?}"

cleanup() {
  if [ -n "$CAP_PID" ]; then kill -KILL "$CAP_PID" 2>/dev/null || true; fi
  if [ -n "$RECV_PID" ]; then kill -KILL "$RECV_PID" 2>/dev/null || true; fi
  rm -rf -- "$WORK"
}
trap cleanup EXIT
# A signal ends the loop through exit, so the EXIT trap still stops the capture.
trap 'exit 143' TERM INT HUP

# firewalld's zone of the bridge rejecting the lab's ports explains every failed cell.
: >"$WORK/firewall"
if fw_running; then
  fw_zone_name=$(fw_zone)
  fw_closed_ports=$(fw_closed "$fw_zone_name")
  if [ -n "$fw_closed_ports" ]; then
    fix="firewalld lost the lab's runtime rule (a reload?): run up again"
    [ "$FIREWALL" = leave ] && fix="set host.firewall: open, or open them on the host"
    printf "the KVM host's firewalld zone %s (bridge %s) rejects %s from the guest, and host.firewall is %s: %s\n" \
      "$fw_zone_name" "$BRIDGE" "$fw_closed_ports" "$FIREWALL" "$fix" >"$WORK/firewall"
    echo "warning: $(cat "$WORK/firewall")" >&2
  fi
fi
ss -Hltn "sport = :$PORT" >"$WORK/listening" 2>/dev/null || true
if [ ! -s "$WORK/listening" ]; then
  echo "warning: nothing listens on port $PORT on this host: the cells will report the iperf3 error" >&2
fi

# run_cell INDEX
run_cell() {
  local i=$1 rc=0 before after
  local id=${CELL_IDS[$i]} seconds=${CELL_SECONDS[$i]} payload=${CELL_PAYLOADS[$i]} sender=${CELL_SENDERS[$i]}
  echo "cell $((i + 1))/${#CELL_IDS[@]}: $id" >&2
  start_capture "$id"
  # iperf3's server cannot read the uso sender's datagrams: its own receiver counts them.
  if [ "$sender" = uso ]; then uso_receiver_start "$id"; fi
  before=$(rx_frames)
  # timeout signals its whole process group: the transport and everything it started.
  export OL_GUEST_PID_FILE="$WORK/$id.pid"
  printf '%s' "${CELL_SCRIPTS[$i]}" | timeout -k 5 "$((seconds + GRACE))" bash -c "$TRANSPORT"$'\n''guest_exec' \
    >"$WORK/$id.out" 2>"$WORK/$id.err" || rc=$?
  after=$(rx_frames)
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    # Only the host side was ended: stop the guest's sender too, or the next cell meets
    # "the server is busy running a test".
    # shellcheck disable=SC2016 # $1 is guest_stop's argument, expanded by the inner bash
    timeout -k 5 60 bash -c "$TRANSPORT"$'\n''guest_stop "$1"' guest_stop "$OL_GUEST_PID_FILE" 2>>"$WORK/$id.err" || true
  fi
  uso_receiver_stop
  stop_capture
  echo "$rc" >"$WORK/$id.rc"
  [ "$rc" = 0 ] || echo "cell $id: guest exit code $rc" >&2
  if [ "$before" -ge 0 ] && [ "$after" -ge "$before" ]; then count_frames "$id" "$payload" "$((after - before))"; fi
}

# print_cell ID: the cell's line. base64 keeps the guest's bytes exact; files keep them off
# the command line.
print_cell() {
  local id=$1
  base64 -w0 <"$WORK/$id.out" >"$WORK/$id.out.b64"
  tail -c 4000 "$WORK/$id.err" | base64 -w0 >"$WORK/$id.err.b64"
  jq -nc --arg id "$id" --argjson exitCode "$(cat "$WORK/$id.rc")" --rawfile out "$WORK/$id.out.b64" \
    --rawfile err "$WORK/$id.err.b64" --argjson capture "$(capture_json "$id")" --argjson receiver "$(uso_receiver_json "$id")" \
    --rawfile firewall "$WORK/firewall" \
    '{id: $id, exitCode: $exitCode, stdout: $out, stderr: $err, capture: $capture} + (if $receiver == null then {} else {receiver: $receiver} end)
     + (if $firewall == "" then {} else {firewall: ($firewall | rtrimstr("\n"))} end)'
}

for i in "${!CELL_IDS[@]}"; do run_cell "$i"; done
for id in "${CELL_IDS[@]}"; do print_cell "$id"; done
