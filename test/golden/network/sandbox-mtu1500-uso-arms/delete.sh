#!/usr/bin/env bash
# offload-lab network: src/plan/network/delete-dedicated.sh, after the stack's values
set -euo pipefail
URI=qemu:///system
NET=offload-lab
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
# Stops and undefines the lab's own network; nothing to do when it is already gone.
if [ -z "$(net_active)" ]; then
  note "network $NET is already gone"
  exit 0
fi
if [ "$(net_active)" = yes ]; then
  virsh -c "$URI" net-destroy --network "$NET" >&2
fi
if [ -n "$(net_active)" ]; then
  virsh -c "$URI" net-undefine --network "$NET" >&2
fi
