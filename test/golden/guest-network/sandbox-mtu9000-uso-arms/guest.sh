# offload-lab guest-network (Linux guest): src/plan/guest-network/linux.sh, after the stack's values
set -u
OL_LINUX_INTERFACE=eth0
OL_MAC=52:54:00:cc:26:bc
HOST=10.77.0.1
WANT_ADDRESS=10.77.0.10
WAIT_SECONDS=180
# JSON for a Linux guest's scripts, which run under POSIX sh in an image that may have no jq.
# esc() walks the string a character at a time: gsub() with backslashes in the replacement
# differs between mawk, gawk and busybox awk. Control characters other than tab, newline and
# carriage return are dropped.
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
# ol_json_string: stdin as one JSON string (its lines joined with \n).
ol_json_string() {
  tr -d '\000-\010\013\014\016-\037' | awk "$OL_AWK_JSON_ESC"'
    BEGIN { printf "\"" } { if (NR > 1) printf "\\n"; printf "%s", esc($0) } END { printf "\"" }'
}
# ol_json_lines: stdin as a JSON array of its lines.
ol_json_lines() {
  tr -d '\000-\010\013\014\016-\037' | awk "$OL_AWK_JSON_ESC"'
    BEGIN { printf "[" } { printf "%s\"%s\"", (NR > 1 ? "," : ""), esc($0) } END { printf "]" }'
}
# shellcheck disable=SC2034 # OL_DEV and OL_DEV_WANTED are for the script that includes this
# The guest's lab interface, for every Linux guest script of the lab: sets OL_DEV to
# $OL_LINUX_INTERFACE (guest.linuxInterface) when it is set, or else to the device with the
# domain's MAC $OL_MAC; OL_DEV is empty when absent and OL_DEV_WANTED says what was looked
# for. Only devices with a `device` link count, so a bridge or VLAN that copied the MAC is
# not picked.
OL_DEV=
if [ -n "$OL_LINUX_INTERFACE" ]; then
  OL_DEV_WANTED="no interface $OL_LINUX_INTERFACE in the guest (guest.linuxInterface)"
  [ -e "/sys/class/net/$OL_LINUX_INTERFACE" ] && OL_DEV=$OL_LINUX_INTERFACE
else
  OL_DEV_WANTED="no interface with MAC $OL_MAC in the guest (set guest.linuxInterface to name it)"
  for ol_d in /sys/class/net/*; do
    [ -e "$ol_d/device" ] || continue
    if [ "$(cat "$ol_d/address" 2>/dev/null)" = "$OL_MAC" ]; then OL_DEV=${ol_d##*/}; break; fi
  done
fi
# Waits until what the matrix needs is there: the lab interface up, its IPv4 address (the
# configured one, when known), and a route to the host's address through that interface.
# Without it the first cells run before DHCP has answered and fail with "Network is
# unreachable". Prints one JSON document; exits 1 naming what is still missing when the wait
# runs out. Bound before this: HOST (the host's address), WANT_ADDRESS (the guest's, or empty
# when unknown) and WAIT_SECONDS; OL_DEV is the lab interface (linux-interface.sh).
: "${HOST:?}" "${WANT_ADDRESS?}" "${WAIT_SECONDS:?}"
[ -n "$OL_DEV" ] || { echo "guest-network: $OL_DEV_WANTED" >&2; exit 2; }
# Whether the interface has WANT_ADDRESS, compared as text, not as a pattern.
has_wanted_address() {
  while read -r address; do
    case $address in "$WANT_ADDRESS"/*) return 0 ;; esac
  done <<ADDRESSES_END
$addresses
ADDRESSES_END
  return 1
}
waited=0
while :; do
  state=$(cat "/sys/class/net/$OL_DEV/operstate" 2>/dev/null || echo absent)
  addresses=$(ip -4 -o addr show dev "$OL_DEV" scope global 2>/dev/null | awk '{ print $4 }')
  # First line only: "HOST dev DEV src ADDR ..."; -o would append a backslash and "cache".
  route=$(ip -4 route get "$HOST" 2>&1 | sed -n 1p)
  missing=
  if [ "$state" != up ]; then
    missing="$OL_DEV is $state, not up"
  elif [ -n "$WANT_ADDRESS" ] && ! has_wanted_address; then
    missing="$OL_DEV has no address $WANT_ADDRESS (it has: $(printf '%s' "${addresses:-none}" | tr '\n' ' '))"
  elif [ -z "$addresses" ]; then
    missing="$OL_DEV has no IPv4 address"
  else
    case "$route " in
      *" dev $OL_DEV "*) ;;
      *) missing="no route to the host $HOST through $OL_DEV (ip route get: $route)" ;;
    esac
  fi
  [ -n "$missing" ] || break
  if [ "$waited" -ge "$WAIT_SECONDS" ]; then
    echo "guest-network: after $WAIT_SECONDS s, $missing: the matrix could not reach the iperf3 server" >&2
    exit 1
  fi
  sleep 1
  waited=$((waited + 1))
done
printf '{"interface":%s,"operstate":%s,"addresses":%s,"route":%s,"waitedSeconds":%s}\n' \
  "$(printf '%s' "$OL_DEV" | ol_json_string)" \
  "$(printf '%s' "$state" | ol_json_string)" \
  "$(printf '%s\n' "$addresses" | ol_json_lines)" \
  "$(printf '%s' "$route" | ol_json_string)" \
  "$waited"
