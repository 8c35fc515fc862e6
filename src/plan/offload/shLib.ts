import { shArgs } from "../quote";
import { printedFeatureName, type OnOff } from "./request";
import type { EthtoolFeature } from "../../config/features";

// POSIX sh shared by the Linux guest script and the host script (bash runs it unchanged):
// dash and busybox have everything used here (sed, awk, tr, printf).

/**
 * `ol_json_string` turns stdin into one JSON string, `ol_json_lines` its lines into a JSON
 * array of strings. Control characters other than tab and newline are dropped: ethtool and
 * ip never print them, and a stray one must not break the JSON. Escaping goes character by
 * character because mawk and gawk read backslashes in a gsub replacement differently.
 */
export const JSON_SH_FUNCTIONS = String.raw`OL_AWK_JSON_ESC='function esc(s,  out, c, i) {
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
}`;

/**
 * `ol_check WHERE FEATURE PRINTED WANT` compares one feature of `$OL_K` (saved `ethtool -k`
 * text) with the wanted state and appends a mismatch to `$OL_FAIL` in the wording of
 * src/results/offload.ts `describeMismatch`.
 */
export const ETHTOOL_SH_FUNCTIONS = String.raw`ol_check() {
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
}`;

/** One `ethtool -K` per feature: one name this kernel lacks must not stop the others. */
export function setFeaturesSh(deviceVar: string, features: readonly (readonly [EthtoolFeature, OnOff])[]): string {
  return features.map(([f, v]) => `ol_set "$${deviceVar}" ${shArgs([f, v])}`).join("\n");
}

export function checkFeaturesSh(where: string, features: readonly (readonly [EthtoolFeature, OnOff])[]): string {
  return features.map(([f, v]) => `ol_check ${where} ${shArgs([f, printedFeatureName(f), v])}`).join("\n");
}
