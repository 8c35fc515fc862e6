# shellcheck shell=sh
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
