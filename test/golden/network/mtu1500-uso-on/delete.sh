#!/usr/bin/env bash
# offload-lab network: src/plan/network/delete-adopt.sh, after the stack's values
set -euo pipefail
URI=qemu:///system
NET=default
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
# Gives the adopted network back as it was: its original definition, active or not.
if ! dump_definition; then
  note "network $NET is gone: nothing to restore"
  exit 0
fi
saved=$(saved_field "text()")
if [ -z "$saved" ]; then
  note "network $NET carries no saved definition: already restored"
  exit 0
fi
was_active=$(saved_field @active)
printf '%s' "$saved" | base64 -d >"$WORK/original.xml"
virsh -c "$URI" net-define --file "$WORK/original.xml" >&2
if [ "$(net_active)" = yes ]; then
  virsh -c "$URI" net-destroy --network "$NET" >&2
fi
if [ "$was_active" = yes ]; then virsh -c "$URI" net-start --network "$NET" >&2; fi
note "restored the original definition of network $NET"
