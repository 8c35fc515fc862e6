#!/usr/bin/env bash
# Removes exactly the runtime ports create recorded in STATE, each from the zone it was added
# to, then STATE itself. A port already gone (firewalld reloaded or restarted meanwhile) is
# said, not fatal, so the stack can still be destroyed.
: "${STATE:?}"
if [ ! -s "$STATE" ]; then
  rm -f "$STATE"
  exit 0
fi
if ! fw_running; then
  note "firewalld is not running: the ports recorded in $STATE went with its runtime configuration"
  rm -f "$STATE"
  exit 0
fi
while read -r entry zone; do
  [ -n "$entry" ] || continue
  if firewall-cmd --zone="$zone" --remove-port="$entry" >"$WORK/fw-remove" 2>&1; then
    note "closed $entry in firewalld zone $zone again"
  else
    note "could not remove $entry from firewalld zone $zone: $(tr '\n' ' ' <"$WORK/fw-remove")"
  fi
done <"$STATE"
rm -f "$STATE"
