#!/usr/bin/env bash
# offload-lab host-offloads: src/plan/host-offloads/delete.sh, after the stack's values
set -euo pipefail
STATE_DIR=/var/lib/offload-lab/state
DEVICES=()
OWNERS=()
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
# Where host-offloads keeps, per device, what it needs to give the device back:
#   ethtool-k.DEV  the device's `ethtool -k` from before the lab first changed it;
#   touched.DEV    every feature any create changed since, as "feature printed-name" lines;
#   owner.DEV      the request of the create that last ran on it. Pulumi replaces a command by
#                  creating the new one before deleting the old one: the old delete sees a newer
#                  owner and leaves the device to it, so a trigger change does not undo the new
#                  settings.
: "${STATE_DIR:?}"
state_file() { printf '%s/%s.%s' "$STATE_DIR" "$1" "$2"; }
# Puts back, from the saved `ethtool -k`, each feature any create changed, then removes the
# state files, unless a newer create owns the device. The tap comes before the bridge, whose
# features follow its ports'. A device that is gone (the domain was destroyed first) has
# nothing to restore; a feature the device refuses is reported, not fatal, so the stack can
# still be deleted.
for d in "${!DEVICES[@]}"; do
  dev=${DEVICES[$d]}
  saved=$(state_file ethtool-k "$dev")
  touched=$(state_file touched "$dev")
  owner=$(state_file owner "$dev")
  if [ -e "$owner" ] && [ "$(cat "$owner")" != "${OWNERS[$d]}" ]; then
    echo "host-offloads delete: $dev was set again by a newer host-offloads; leaving it to that one" >&2
  elif [ -e "$saved" ]; then
    if [ -e "/sys/class/net/$dev" ] && [ -e "$touched" ]; then
      while read -r feature printed; do
        was=$(sed -n -E "s/^[[:space:]]*$printed: (on|off).*/\1/p" "$saved" | sed -n 1p)
        if [ -n "$was" ] && ! err=$(ethtool -K "$dev" "$feature" "$was" 2>&1); then
          echo "host-offloads delete: could not restore $feature $was on $dev: $err" >&2
        fi
      done <"$touched"
    fi
    rm -f "$saved" "$touched" "$owner"
  fi
done
