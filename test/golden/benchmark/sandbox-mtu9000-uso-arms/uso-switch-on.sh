# offload-lab benchmark (Linux guest): src/plan/benchmark/uso-switch.sh, after the stack's values
set -u
OL_LINUX_INTERFACE=eth0
OL_MAC=52:54:00:cc:26:bc
ARM=on
# JSON for a Linux guest's scripts, which run under POSIX sh in an image that may have no jq.
# esc() walks the string a character at a time: gsub() with backslashes in the replacement
# differs between mawk, gawk and busybox awk. Control characters other than tab, newline and
# carriage return are dropped.
OL_AWK_JSON_ESC='function esc(s,  out, c, i) {
    out = ""
    for (i = 1; i <= length(s); i++) {
      c = substr(s, i, 1)
      if (c == "\\") c = "\\\\"; else if (c == "\"") c = "\\\""
      else if (c == "\t") c = "\\t"; else if (c == "\r") c = "\\r"
      out = out c
    }
    return out
  }'
# ol_json_string: stdin as one JSON string (its lines joined with \n).
ol_json_string() {
  tr -d '\000-\010\013\014\016-\037' | awk "$OL_AWK_JSON_ESC"'
    BEGIN { printf "\"" } { if (NR > 1) printf "\\n"; printf "%s", esc($0) } END { printf "\"" }'
}
# ol_json_lines: stdin as a JSON array of its lines.
ol_json_lines() {
  tr -d '\000-\010\013\014\016-\037' | awk "$OL_AWK_JSON_ESC"'
    BEGIN { printf "[" } { printf "%s\"%s\"", (NR > 1 ? "," : ""), esc($0) } END { printf "]" }'
}
# shellcheck disable=SC2034 # OL_DEV and OL_DEV_WANTED are for the script that includes this
# The guest's lab interface, for every Linux guest script of the lab: sets OL_DEV to
# $OL_LINUX_INTERFACE (guest.linuxInterface) when it is set, or else to the device with the
# domain's MAC $OL_MAC; OL_DEV is empty when absent and OL_DEV_WANTED says what was looked
# for. Only devices with a `device` link count, so a bridge or VLAN that copied the MAC is
# not picked.
OL_DEV=
if [ -n "$OL_LINUX_INTERFACE" ]; then
  OL_DEV_WANTED="no interface $OL_LINUX_INTERFACE in the guest (guest.linuxInterface)"
  [ -e "/sys/class/net/$OL_LINUX_INTERFACE" ] && OL_DEV=$OL_LINUX_INTERFACE
else
  OL_DEV_WANTED="no interface with MAC $OL_MAC in the guest (set guest.linuxInterface to name it)"
  for ol_d in /sys/class/net/*; do
    [ -e "$ol_d/device" ] || continue
    if [ "$(cat "$ol_d/address" 2>/dev/null)" = "$OL_MAC" ]; then OL_DEV=${ol_d##*/}; break; fi
  done
fi
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
