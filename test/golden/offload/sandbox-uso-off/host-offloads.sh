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



printf '{"devices":[%s],"setErrors":%s}\n' "$OL_DEVICES" "$(printf '%s' "$OL_SET_ERRORS" | ol_json_string)"
if [[ -n $OL_FAIL ]]; then
  echo "offload settings did not take: ${OL_FAIL%; }" >&2
  exit 1
fi
