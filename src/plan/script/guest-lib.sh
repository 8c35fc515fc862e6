# shellcheck shell=sh
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
