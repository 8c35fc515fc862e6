# shellcheck shell=sh
# The offload profile for a Linux guest: `ip link set mtu` and one `ethtool -K` per feature,
# then `ethtool -k` and `ip -j link` read back and printed as one JSON document. A setting that
# did not take fails the step here, with the read-back message. Bound before this: MTU, and
# FEATURES, one "FEATURE WANT PRINTED" line per feature in the order they are set (checksums
# first; PRINTED is the name `ethtool -k` prints it under). OL_DEV is the lab interface
# (linux-interface.sh); ol_set and ol_check come from ethtool-lib.sh.
: "${MTU:?}" "${FEATURES?}"
[ -n "$OL_DEV" ] || { echo "guest-offloads: $OL_DEV_WANTED" >&2; exit 2; }
OL_SET_ERRORS=
OL_FAIL=
if [ "$(cat "/sys/class/net/$OL_DEV/mtu")" != "$MTU" ]; then
  err=$(ip link set dev "$OL_DEV" mtu "$MTU" 2>&1) || OL_SET_ERRORS="$OL_SET_ERRORS$OL_DEV mtu $MTU: $err
"
fi
# POSIX sh has no arrays: the features are lines, read in this shell (not a pipe's subshell).
while read -r feature want _; do
  [ -n "$feature" ] || continue
  ol_set "$OL_DEV" "$feature" "$want"
done <<FEATURES_END
$FEATURES
FEATURES_END
OL_K=$(ethtool -k "$OL_DEV") || { echo "guest-offloads: ethtool -k $OL_DEV failed" >&2; exit 2; }
link=$(ip -j link show dev "$OL_DEV") || { echo "guest-offloads: ip -j link show $OL_DEV failed" >&2; exit 2; }
while read -r feature want printed; do
  [ -n "$feature" ] || continue
  ol_check "guest $OL_DEV" "$feature" "$printed" "$want"
done <<FEATURES_END
$FEATURES
FEATURES_END
mtu_now=$(cat "/sys/class/net/$OL_DEV/mtu")
[ "$mtu_now" = "$MTU" ] || OL_FAIL="${OL_FAIL}guest $OL_DEV: mtu requested $MTU, actual $mtu_now; "
# What `off [fixed]` for USO means on virtio-net: the device never offered the feature.
case $OL_FAIL in
  *'tx-udp-segmentation requested on, actual off [fixed]'*)
    OL_FAIL="${OL_FAIL}the virtio-net device does not offer USO (QEMU's host_uso is off, or QEMU is older than 8.2): set guest.virtioNetFeatures host_uso on; " ;;
esac
printf '{"interface":%s,"ethtoolK":%s,"ipLink":%s,"setErrors":%s}\n' \
  "$(printf '%s' "$OL_DEV" | ol_json_string)" \
  "$(printf '%s\n' "$OL_K" | ol_json_string)" \
  "$link" \
  "$(printf '%s' "$OL_SET_ERRORS" | ol_json_string)"
if [ -n "$OL_FAIL" ]; then
  echo "offload settings did not take: ${OL_FAIL%; }" >&2
  exit 1
fi
