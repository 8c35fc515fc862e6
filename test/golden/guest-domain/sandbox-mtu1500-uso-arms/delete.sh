#!/usr/bin/env bash
# offload-lab guest-domain: src/plan/guest-domain/delete.sh, after the stack's values
set -euo pipefail
URI=qemu:///system
DOM=sandbox-lab
TAP=tap0
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
# Destroys and undefines the guest (with its UEFI variables) and waits for its tap to go.
: "${URI:?}" "${DOM:?}" "${TAP:?}"
if virsh -c "$URI" dominfo --domain "$DOM" >/dev/null 2>&1; then
  if [ "$(virsh -c "$URI" domstate --domain "$DOM" | sed -n 1p)" != "shut off" ]; then
    virsh -c "$URI" destroy --domain "$DOM" >&2
  fi
  virsh -c "$URI" undefine --nvram --domain "$DOM" >&2
else
  note "domain $DOM is already gone"
fi
deadline=$((SECONDS + 30))
while [ -e "/sys/class/net/$TAP" ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail "tap $TAP still exists after domain $DOM was removed"
  sleep 1
done
