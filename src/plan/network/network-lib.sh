# shellcheck shell=bash
# What the network step's scripts share: reading the network's state from libvirt.
: "${URI:?}" "${NET:?}"

# "yes" or "no" (`virsh net-info` prints text, one "Label: value" per line); empty when undefined.
net_active() {
  virsh -c "$URI" net-info --network "$NET" >"$WORK/net-info" 2>/dev/null || return 0
  awk '$1 == "Active:" { print $2 }' "$WORK/net-info"
}
