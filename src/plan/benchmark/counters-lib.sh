# shellcheck shell=bash
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
