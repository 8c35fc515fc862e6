# offload-lab guest-offloads (Linux guest, stack sandbox-uso-on)
set -u
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
ol_json_string() {
  tr -d '\000-\010\013\014\016-\037' | awk "$OL_AWK_JSON_ESC"'
    BEGIN { printf "\"" } { if (NR > 1) printf "\\n"; printf "%s", esc($0) } END { printf "\"" }'
}
ol_json_lines() {
  tr -d '\000-\010\013\014\016-\037' | awk "$OL_AWK_JSON_ESC"'
    BEGIN { printf "[" } { printf "%s\"%s\"", (NR > 1 ? "," : ""), esc($0) } END { printf "]" }'
}
ol_check() {
  ol_actual=$(printf '%s\n' "$OL_K" | sed -n "s/^[[:space:]]*$3: //p" | sed -n 1p)
  [ -n "$ol_actual" ] || ol_actual=absent
  case $ol_actual in
    "$4" | "$4 "*) ;;
    *) OL_FAIL="$OL_FAIL$1: $2 requested $4, actual $ol_actual; " ;;
  esac
}
ol_set() {
  ol_err=$(ethtool -K "$1" "$2" "$3" 2>&1 >/dev/null) || OL_SET_ERRORS="$OL_SET_ERRORS$1 $2 $3: $ol_err
"
}
OL_DEV=eth0
OL_DEV_WANTED="no interface $OL_DEV in the guest (guest.linuxInterface)"
[ -e "/sys/class/net/$OL_DEV" ] || OL_DEV=
[ -n "$OL_DEV" ] || { echo "guest-offloads: $OL_DEV_WANTED" >&2; exit 2; }
OL_MTU=1500
OL_SET_ERRORS=
OL_FAIL=
if [ "$(cat "/sys/class/net/$OL_DEV/mtu")" != "$OL_MTU" ]; then
  ol_err=$(ip link set dev "$OL_DEV" mtu "$OL_MTU" 2>&1) || OL_SET_ERRORS="$OL_SET_ERRORS$OL_DEV mtu $OL_MTU: $ol_err
"
fi
ol_set "$OL_DEV" tx-udp-segmentation on
OL_K=$(ethtool -k "$OL_DEV") || { echo "guest-offloads: ethtool -k $OL_DEV failed" >&2; exit 2; }
OL_LINK=$(ip -j link show dev "$OL_DEV") || { echo "guest-offloads: ip -j link show $OL_DEV failed" >&2; exit 2; }
ol_check "guest $OL_DEV" tx-udp-segmentation tx-udp-segmentation on
ol_mtu_now=$(cat "/sys/class/net/$OL_DEV/mtu")
[ "$ol_mtu_now" = "$OL_MTU" ] || OL_FAIL="${OL_FAIL}guest $OL_DEV: mtu requested $OL_MTU, actual $ol_mtu_now; "
case $OL_FAIL in *'tx-udp-segmentation requested on, actual off [fixed]'*) OL_FAIL="${OL_FAIL}""the virtio-net device does not offer USO (QEMU's host_uso is off, or QEMU is older than 8.2): set guest.virtioNetFeatures host_uso on""; " ;; esac
printf '{"interface":%s,"ethtoolK":%s,"ipLink":%s,"setErrors":%s}\n' \
  "$(printf '%s' "$OL_DEV" | ol_json_string)" \
  "$(printf '%s\n' "$OL_K" | ol_json_string)" \
  "$OL_LINK" \
  "$(printf '%s' "$OL_SET_ERRORS" | ol_json_string)"
if [ -n "$OL_FAIL" ]; then
  echo "offload settings did not take: ${OL_FAIL%; }" >&2
  exit 1
fi
