# offload-lab guest-network (Linux guest)
set -u
OL_AWK_JSON_ESC='function esc(s,  out, c, i) {
    out = ""
    for (i = 1; i <= length(s); i++) {
      c = substr(s, i, 1)
      if (c == "\\") c = "\\\\"; else if (c == "\"") c = "\\\""
      else if (c == "\t") c = "\\t"; else if (c == "\r") c = "\\r"
      out = out c
    }
    return out
  }'
ol_json_string() {
  tr -d '\000-\010\013\014\016-\037' | awk "$OL_AWK_JSON_ESC"'
    BEGIN { printf "\"" } { if (NR > 1) printf "\\n"; printf "%s", esc($0) } END { printf "\"" }'
}
ol_json_lines() {
  tr -d '\000-\010\013\014\016-\037' | awk "$OL_AWK_JSON_ESC"'
    BEGIN { printf "[" } { printf "%s\"%s\"", (NR > 1 ? "," : ""), esc($0) } END { printf "]" }'
}
OL_DEV=eth0
OL_DEV_WANTED="no interface $OL_DEV in the guest (guest.linuxInterface)"
[ -e "/sys/class/net/$OL_DEV" ] || OL_DEV=
[ -n "$OL_DEV" ] || { echo "guest-network: $OL_DEV_WANTED" >&2; exit 2; }
OL_HOST=10.77.0.1
OL_WANT_ADDRESS=10.77.0.10
OL_WAIT=180
ol_waited=0
while :; do
  ol_state=$(cat "/sys/class/net/$OL_DEV/operstate" 2>/dev/null || echo absent)
  ol_addresses=$(ip -4 -o addr show dev "$OL_DEV" scope global 2>/dev/null | awk '{ print $4 }')
  # First line only: "HOST dev DEV src ADDR ..."; -o would append a backslash and "cache".
  ol_route=$(ip -4 route get "$OL_HOST" 2>&1 | sed -n 1p)
  ol_missing=
  if [ "$ol_state" != up ]; then
    ol_missing="$OL_DEV is $ol_state, not up"
  elif [ -n "$OL_WANT_ADDRESS" ] && ! printf '%s\n' "$ol_addresses" | grep -qx "$OL_WANT_ADDRESS/[0-9]*"; then
    ol_missing="$OL_DEV has no address $OL_WANT_ADDRESS (it has: $(echo ${ol_addresses:-none}))"
  elif [ -z "$ol_addresses" ]; then
    ol_missing="$OL_DEV has no IPv4 address"
  else
    case "$ol_route " in
      *" dev $OL_DEV "*) ;;
      *) ol_missing="no route to the host $OL_HOST through $OL_DEV (ip route get: $ol_route)" ;;
    esac
  fi
  [ -n "$ol_missing" ] || break
  if [ "$ol_waited" -ge "$OL_WAIT" ]; then
    echo "guest-network: after $OL_WAIT s, $ol_missing: the matrix could not reach the iperf3 server" >&2
    exit 1
  fi
  sleep 1
  ol_waited=$((ol_waited + 1))
done
printf '{"interface":%s,"operstate":%s,"addresses":%s,"route":%s,"waitedSeconds":%s}\n' \
  "$(printf '%s' "$OL_DEV" | ol_json_string)" \
  "$(printf '%s' "$ol_state" | ol_json_string)" \
  "$(printf '%s\n' "$ol_addresses" | ol_json_lines)" \
  "$(printf '%s' "$ol_route" | ol_json_string)" \
  "$ol_waited"
