#!/usr/bin/env bash
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
