#!/usr/bin/env bash
# Opens the lab's ports (PORTS) to the guest in the firewalld zone of the lab's bridge, at
# runtime only (no --permanent: a reload or a reboot forgets them too), and records in STATE
# each "port/proto zone" it added (the zone last: the rest of the line), so delete removes exactly those. A port the zone already
# accepts is left as it is and not recorded. With SETTING leave it only says what would block.
# Prints one JSON document: firewalld, setting, zone, and per port what the lab found and did.
: "${SETTING:?}" "${STATE:?}"
if ! fw_running; then
  note "firewalld is not running on the KVM host: nothing to open"
  jq -nc --arg setting "$SETTING" '{firewalld: false, setting: $setting, zone: null, ports: []}'
  exit 0
fi
zone=$(fw_zone)
mkdir -p "$(dirname "$STATE")"
touch "$STATE"
: >"$WORK/ports"
for entry in "${PORTS[@]}"; do
  if grep -qxF -- "$entry $zone" "$STATE"; then
    # Added by an earlier create of this stack whose delete has not run: still the lab's.
    state=added
  elif fw_open "$zone" "$entry"; then
    state=already-open
  elif [ "$SETTING" = leave ]; then
    state=closed
  else
    firewall-cmd --zone="$zone" --add-port="$entry" >"$WORK/fw-add" 2>&1 \
      || fail "firewall-cmd --zone=$zone --add-port=$entry failed: $(tr '\n' ' ' <"$WORK/fw-add")"
    printf '%s %s\n' "$entry" "$zone" >>"$STATE"
    state=added
  fi
  printf '%s %s\n' "$entry" "$state" >>"$WORK/ports"
done
rejected=$(sed -n 's/ closed$//p' "$WORK/ports" | tr '\n' ' ')
if [ -n "$rejected" ]; then
  note "host.firewall is leave: firewalld zone $zone (bridge $BRIDGE) rejects ${rejected% } from the guest, so the cells will fail; set host.firewall: open, or open the ports yourself"
fi
[ -s "$STATE" ] || rm -f "$STATE"
jq -nc --arg setting "$SETTING" --arg zone "$zone" --rawfile ports "$WORK/ports" \
  '{firewalld: true, setting: $setting, zone: $zone,
    ports: [$ports | split("\n")[] | select(. != "") | split(" ") | {port: .[0], state: .[1]}]}'
