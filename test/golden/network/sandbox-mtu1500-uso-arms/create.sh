#!/usr/bin/env bash
# offload-lab network: src/plan/network/create-dedicated.sh, after the stack's values
set -euo pipefail
URI=qemu:///system
NET=offload-lab
MODE=dedicated
MTU=1500
# What every host script may call. Config values are bound above this by the generated
# preamble; tool output goes to files under $WORK (under pipefail a reader that stops early,
# like head or grep -q, could fail a pipeline through the writer's SIGPIPE).
export LC_ALL=C
# shellcheck disable=SC2317 # shared by every host step: a step that never calls it leaves it unreachable
fail() { printf 'offload-lab: %s\n' "$*" >&2; exit 1; }
# shellcheck disable=SC2317 # likewise
note() { printf 'offload-lab: %s\n' "$*" >&2; }
WORK=$(mktemp -d)
trap 'rm -rf -- "$WORK"' EXIT
# What the network step's scripts share: reading the network's state from libvirt.
: "${URI:?}" "${NET:?}"

# "yes" or "no" (`virsh net-info` prints text, one "Label: value" per line); empty when undefined.
net_active() {
  virsh -c "$URI" net-info --network "$NET" >"$WORK/net-info" 2>/dev/null || return 0
  awk '$1 == "Active:" { print $2 }' "$WORK/net-info"
}
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
cat >"$WORK/network.xml" <<'OFFLOAD_LAB_DOCUMENT_END'
<network>
  <name>offload-lab</name>
  <uuid>e2cc50cc-0f0d-5058-a268-82aae09096e4</uuid>
  <bridge name="olbr0" stp="on" delay="0"/>
  <mtu size="1500"/>
  <ip address="10.77.0.1" netmask="255.255.255.0">
    <dhcp>
      <range start="10.77.0.100" end="10.77.0.254"/>
      <host mac="52:54:00:5f:70:9f" ip="10.77.0.10"/>
    </dhcp>
  </ip>
</network>
OFFLOAD_LAB_DOCUMENT_END
# Defines the lab's own network from network.xml (built whole by xmlbuilder2) and starts it.
before=$(virsh -c "$URI" net-dumpxml --inactive --network "$NET" 2>/dev/null || true)
virsh -c "$URI" net-define --file "$WORK/network.xml" >&2
after=$(virsh -c "$URI" net-dumpxml --inactive --network "$NET")
start_and_read_back "$before" "$after"
