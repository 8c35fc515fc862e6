# shellcheck shell=bash
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
