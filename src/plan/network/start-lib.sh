# shellcheck shell=bash
# start_and_read_back BEFORE AFTER (the definition as net-dumpxml printed it around net-define):
# starts the network, restarting it when its definition or its bridge's MTU changed, then
# reads the MTU back and prints the step's JSON.
: "${MODE:?}" "${MTU:?}"

# The network's bridge, from its definition.
net_bridge() {
  virsh -c "$URI" net-dumpxml --network "$NET" >"$WORK/live.xml"
  xmlstarlet sel -t -v /network/bridge/@name "$WORK/live.xml" || true
}

start_and_read_back() {
  local before=$1 after=$2 bridge live_mtu mtu
  bridge=$(net_bridge)
  [ -n "$bridge" ] || fail "network $NET has no bridge"
  if [ "$(net_active)" = yes ]; then
    live_mtu=$(cat "/sys/class/net/$bridge/mtu" 2>/dev/null || echo none)
    if [ "$before" != "$after" ] || [ "$live_mtu" != "$MTU" ]; then
      note "restarting network $NET to apply its definition (running guests lose their tap until the guest-domain step plugs it back)"
      virsh -c "$URI" net-destroy --network "$NET" >&2
    fi
  fi
  [ "$(net_active)" = yes ] || virsh -c "$URI" net-start --network "$NET" >&2
  bridge=$(net_bridge)
  mtu=$(cat "/sys/class/net/$bridge/mtu" 2>/dev/null) || fail "bridge $bridge of network $NET is not on this host"
  [ "$mtu" = "$MTU" ] || fail "bridge $bridge has MTU $mtu after start, configured $MTU"
  jq -nc --arg network "$NET" --arg mode "$MODE" --arg bridge "$bridge" --argjson mtu "$mtu" \
    '{network: $network, mode: $mode, bridge: $bridge, mtu: $mtu}'
}
