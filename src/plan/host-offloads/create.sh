#!/usr/bin/env bash
# `ethtool -K` on the guest's tap and on the lab's bridge, per hostOffloads, read back with
# `ethtool -k` after every device is set; prints one JSON document (each device's `ethtool -k`
# and the refusals of `ethtool -K`), then fails with the read-back message when a feature did
# not take. Devices (DEVICES, with ROLES and OWNERS) and their features (FEATURE_DEVICE, the
# index of the device; FEATURES, FEATURE_PRINTED as `ethtool -k` names it, FEATURE_WANT) are
# bound as parallel arrays.
mkdir -p "$STATE_DIR"
OL_FAIL=
OL_SET_ERRORS=

# Every device is saved before any is changed: a bridge's features follow its ports'.
for d in "${!DEVICES[@]}"; do
  dev=${DEVICES[$d]}
  if [ ! -e "/sys/class/net/$dev" ]; then
    case ${ROLES[$d]} in
      tap) what="the guest's tap (is the domain running?)" ;;
      *) what="the lab's bridge (network.bridge)" ;;
    esac
    echo "host-offloads: no device $dev on the host: $what" >&2
    exit 2
  fi
  # The first run saves the device; a re-run keeps what it had before the lab.
  saved=$(state_file ethtool-k "$dev")
  if [ ! -e "$saved" ]; then
    ethtool -k "$dev" >"$saved.tmp"
    mv "$saved.tmp" "$saved"
  fi
  touched=$(state_file touched "$dev")
  for f in "${!FEATURES[@]}"; do
    if [ "${FEATURE_DEVICE[$f]}" = "$d" ]; then printf '%s %s\n' "${FEATURES[$f]}" "${FEATURE_PRINTED[$f]}" >>"$touched"; fi
  done
  awk '!seen[$0]++' "$touched" >"$touched.tmp"
  mv "$touched.tmp" "$touched"
  printf '%s\n' "${OWNERS[$d]}" >"$(state_file owner "$dev")"
done

for f in "${!FEATURES[@]}"; do
  ol_set "${DEVICES[${FEATURE_DEVICE[$f]}]}" "${FEATURES[$f]}" "${FEATURE_WANT[$f]}"
done

# Read back after all devices are set, for the same reason.
: >"$WORK/devices.jsonl"
for d in "${!DEVICES[@]}"; do
  dev=${DEVICES[$d]}
  OL_K=$(ethtool -k "$dev")
  for f in "${!FEATURES[@]}"; do
    if [ "${FEATURE_DEVICE[$f]}" = "$d" ]; then ol_check "${ROLES[$d]} $dev" "${FEATURES[$f]}" "${FEATURE_PRINTED[$f]}" "${FEATURE_WANT[$f]}"; fi
  done
  jq -nc --arg role "${ROLES[$d]}" --arg device "$dev" --arg ethtoolK "$OL_K" \
    '{role: $role, device: $device, ethtoolK: $ethtoolK}' >>"$WORK/devices.jsonl"
done
jq -sc --arg setErrors "${OL_SET_ERRORS%$'\n'}" '{devices: ., setErrors: $setErrors}' "$WORK/devices.jsonl"
if [ -n "$OL_FAIL" ]; then
  echo "offload settings did not take: ${OL_FAIL%; }" >&2
  exit 1
fi
