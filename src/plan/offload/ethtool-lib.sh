# shellcheck shell=sh
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
