#!/usr/bin/env bash
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
