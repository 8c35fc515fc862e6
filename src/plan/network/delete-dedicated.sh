#!/usr/bin/env bash
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
