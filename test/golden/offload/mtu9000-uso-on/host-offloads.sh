# offload-lab host-offloads: ethtool -K on the guest's tap and the bridge
set -euo pipefail
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
OL_STATE_DIR=/var/lib/offload-lab/state
mkdir -p "$OL_STATE_DIR"
OL_FAIL=
OL_SET_ERRORS=
OL_DEVICES=

# tap tap0: save its features once, before the lab changes anything
OL_DEV=tap0
OL_SAVED=/var/lib/offload-lab/state/ethtool-k.tap0
[[ -e /sys/class/net/$OL_DEV ]] || { echo "host-offloads: no device $OL_DEV on the host: the guest's tap (is the domain running?)" >&2; exit 2; }
if [[ ! -e $OL_SAVED ]]; then
  ethtool -k "$OL_DEV" >"$OL_SAVED.tmp"
  mv "$OL_SAVED.tmp" "$OL_SAVED"
fi
OL_TOUCHED=/var/lib/offload-lab/state/touched.tap0
printf '%s\n' 'tx-udp-segmentation tx-udp-segmentation' >>"$OL_TOUCHED"
awk '!seen[$0]++' "$OL_TOUCHED" >"$OL_TOUCHED.tmp"
mv "$OL_TOUCHED.tmp" "$OL_TOUCHED"
echo b3a979a40245a245 >/var/lib/offload-lab/state/owner.tap0

# tap tap0
OL_DEV=tap0
ol_set "$OL_DEV" tx-udp-segmentation on

# tap tap0
OL_DEV=tap0
OL_K=$(ethtool -k "$OL_DEV")
ol_check "tap $OL_DEV" tx-udp-segmentation tx-udp-segmentation on
OL_DEVICES="$OL_DEVICES${OL_DEVICES:+,}{\"role\":\"tap\",\"device\":$(printf '%s' "$OL_DEV" | ol_json_string),\"ethtoolK\":$(printf '%s\n' "$OL_K" | ol_json_string)}"
printf '{"devices":[%s],"setErrors":%s}\n' "$OL_DEVICES" "$(printf '%s' "$OL_SET_ERRORS" | ol_json_string)"
if [[ -n $OL_FAIL ]]; then
  echo "offload settings did not take: ${OL_FAIL%; }" >&2
  exit 1
fi
