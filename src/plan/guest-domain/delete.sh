#!/usr/bin/env bash
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
