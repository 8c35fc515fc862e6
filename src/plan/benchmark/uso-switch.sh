# shellcheck shell=sh
# In-lab arms, Linux guest: switches the lab interface's tx-udp-segmentation to ARM (on or off)
# before a cell, reads it back from `ethtool -k` and prints one JSON document. A switch that did
# not take fails here, with the read-back message: the benchmark then fails that cell and runs
# the next. OL_DEV is the lab interface (linux-interface.sh); ol_set and ol_check come from
# ethtool-lib.sh.
: "${ARM:?}"
[ -n "$OL_DEV" ] || { echo "uso switch: $OL_DEV_WANTED" >&2; exit 2; }
OL_SET_ERRORS=
OL_FAIL=
ol_set "$OL_DEV" tx-udp-segmentation "$ARM"
OL_K=$(ethtool -k "$OL_DEV") || { echo "uso switch: ethtool -k $OL_DEV failed" >&2; exit 2; }
ol_check "guest $OL_DEV" tx-udp-segmentation tx-udp-segmentation "$ARM"
actual=$(printf '%s\n' "$OL_K" | sed -n 's/^[[:space:]]*tx-udp-segmentation: //p' | sed -n 1p)
case $OL_FAIL in
  *'requested on, actual off [fixed]'*)
    OL_FAIL="${OL_FAIL}the virtio-net device does not offer USO (QEMU's host_uso is off, or QEMU is older than 8.2): set guest.virtioNetFeatures host_uso on; " ;;
esac
printf '{"interface":%s,"requested":%s,"actual":%s,"setErrors":%s}\n' \
  "$(printf '%s' "$OL_DEV" | ol_json_string)" \
  "$(printf '%s' "$ARM" | ol_json_string)" \
  "$(printf '%s' "${actual:-absent}" | ol_json_string)" \
  "$(printf '%s' "$OL_SET_ERRORS" | ol_json_string)"
if [ -n "$OL_FAIL" ]; then
  echo "USO switch did not take: ${OL_FAIL%; }" >&2
  exit 1
fi
