#!/usr/bin/env bash
# offload-lab network: src/plan/network/create-adopt.sh, after the stack's values
set -euo pipefail
URI=qemu:///system
NET=default
MODE=adopt
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
# Adopt mode keeps the network's original definition inside the network itself, as base64 in
# a <metadata> element with the network's active state: delete restores it from there, so no
# state file on the host can go stale or be lost.
saved_ns=urn:offload-lab:adopted-network
# Reads the network's definition into $WORK/current.xml; fails when libvirt does not know it.
dump_definition() {
  virsh -c "$URI" net-dumpxml --inactive --network "$NET" >"$WORK/current.xml" 2>"$WORK/err"
}
# What the saved element holds: `saved_field "text()"` is the base64 definition, `saved_field @active` yes or no.
saved_field() {
  xmlstarlet sel -N offloadlab="$saved_ns" -t -v "/network/metadata/offloadlab:original/$1" "$WORK/current.xml" || true
}
# Takes over an existing network (libvirt's `default`): sets its MTU and, the first time,
# saves its original definition in its <metadata> for delete to restore.
dump_definition \
  || fail "network $NET to adopt is not defined at $URI ($(tr '\n' ' ' <"$WORK/err")); define it or use network.mode dedicated"
[ "$(xmlstarlet sel -t -v 'count(/network)' "$WORK/current.xml")" = 1 ] || fail "unexpected XML from net-dumpxml $NET"
before=$(cat "$WORK/current.xml")
edits=(-d /network/mtu -s /network -t elem -n mtu -i /network/mtu -t attr -n size -v "$MTU")
if [ -z "$(saved_field "text()")" ]; then
  [ "$(xmlstarlet sel -t -v 'count(/network/metadata)' "$WORK/current.xml")" != 0 ] || edits+=(-s /network -t elem -n metadata)
  # xmlstarlet ed gives a new element no namespace: the xmlns:offloadlab attribute it is given
  # is written out as the declaration that binds its prefix when libvirt reads the file.
  edits+=(-s /network/metadata -t elem -n offloadlab:original -v "$(base64 -w0 "$WORK/current.xml")"
    -i '/network/metadata/*[last()]' -t attr -n xmlns:offloadlab -v "$saved_ns"
    -i '/network/metadata/*[last()]' -t attr -n active -v "$(net_active)")
  note "saved the original definition of network $NET (restored on delete)"
fi
xmlstarlet ed "${edits[@]}" "$WORK/current.xml" >"$WORK/network.xml"
virsh -c "$URI" net-define --file "$WORK/network.xml" >&2
after=$(virsh -c "$URI" net-dumpxml --inactive --network "$NET")
start_and_read_back "$before" "$after"
