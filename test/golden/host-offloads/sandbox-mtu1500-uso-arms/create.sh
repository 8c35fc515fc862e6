#!/usr/bin/env bash
# offload-lab host-offloads: src/plan/host-offloads/create.sh, after the stack's values
set -euo pipefail
STATE_DIR=/var/lib/offload-lab/state
DEVICES=()
OWNERS=()
ROLES=()
FEATURE_DEVICE=()
FEATURES=()
FEATURE_PRINTED=()
FEATURE_WANT=()
# What every host script may call. Config values are bound above this by the generated
# preamble; tool output goes to files under $WORK (under pipefail a reader that stops early,
# like head or grep -q, could fail a pipeline through the writer's SIGPIPE).
export LC_ALL=C
# shellcheck disable=SC2317 # shared by every host step: a step that never calls it leaves it unreachable
fail() { printf 'offload-lab: %s\n' "$*" >&2; exit 1; }
# shellcheck disable=SC2317 # likewise
note() { printf 'offload-lab: %s\n' "$*" >&2; }
WORK=$(mktemp -d)
trap 'rm -rf -- "$WORK"' EXIT
# Setting and checking ethtool features, for the host's bash and a Linux guest's POSIX sh
# alike (dash and busybox have everything used here).
#
# ol_set DEV FEATURE on|off: one `ethtool -K` per feature, so one name this kernel lacks does
# not stop the others; a refusal is appended to OL_SET_ERRORS.
# ol_check WHERE FEATURE PRINTED WANT: compares FEATURE, as `ethtool -k` prints it (PRINTED,
# see src/plan/offload/request.ts printedFeatureName), in $OL_K (saved `ethtool -k` text) with
# WANT and appends a mismatch to OL_FAIL as "WHERE: FEATURE requested WANT, actual STATE; ".
# shellcheck disable=SC2034 # OL_SET_ERRORS and OL_FAIL are read by the script that includes this
ol_set() {
  ol_err=$(ethtool -K "$1" "$2" "$3" 2>&1 >/dev/null) || OL_SET_ERRORS="$OL_SET_ERRORS$1 $2 $3: $ol_err
"
}
ol_check() {
  ol_actual=$(printf '%s\n' "$OL_K" | sed -n "s/^[[:space:]]*$3: //p" | sed -n 1p)
  [ -n "$ol_actual" ] || ol_actual=absent
  case $ol_actual in
    "$4" | "$4 "*) ;;
    *) OL_FAIL="$OL_FAIL$1: $2 requested $4, actual $ol_actual; " ;;
  esac
}
# Where host-offloads keeps, per device, what it needs to give the device back:
#   ethtool-k.DEV  the device's `ethtool -k` from before the lab first changed it;
#   touched.DEV    every feature any create changed since, as "feature printed-name" lines;
#   owner.DEV      the request of the create that last ran on it. Pulumi replaces a command by
#                  creating the new one before deleting the old one: the old delete sees a newer
#                  owner and leaves the device to it, so a trigger change does not undo the new
#                  settings.
: "${STATE_DIR:?}"
state_file() { printf '%s/%s.%s' "$STATE_DIR" "$1" "$2"; }
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
