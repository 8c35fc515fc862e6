# offload-lab guest-check (Linux guest)
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
OL_MISSING=
for ol_tool in ethtool ip awk sed tr; do
  command -v "$ol_tool" >/dev/null 2>&1 || OL_MISSING="$OL_MISSING$ol_tool
"
done
if command -v ip >/dev/null 2>&1 && ! ip -j link show >/dev/null 2>&1; then
  OL_MISSING="${OL_MISSING}ip with JSON output (-j): iproute2 4.14 or newer
"
fi
OL_IPERF3=/usr/bin/iperf3
OL_IPERF3_VERSION=
if command -v "$OL_IPERF3" >/dev/null 2>&1; then
  OL_IPERF3_VERSION=$("$OL_IPERF3" --version 2>&1 | sed -n 1p)
  if ! "$OL_IPERF3" --help 2>&1 | grep -q -- '--gsro'; then
    OL_MISSING="${OL_MISSING}iperf3 with --gsro (3.21 or newer) for matrix.senders gso, not $OL_IPERF3_VERSION
"
  fi
else
  OL_MISSING="${OL_MISSING}iperf3 at $OL_IPERF3 (guest.iperf3Path)
"
fi
OL_DEV=eth0
OL_DEV_WANTED="no interface $OL_DEV in the guest (guest.linuxInterface)"
[ -e "/sys/class/net/$OL_DEV" ] || OL_DEV=
[ -n "$OL_DEV" ] || OL_MISSING="$OL_MISSING$OL_DEV_WANTED
"
OL_MISSING=${OL_MISSING%
}
printf '{"ok":%s,"missing":%s,"interface":%s,"iperf3Path":%s,"iperf3Version":%s,"kernel":%s}\n' \
  "$([ -z "$OL_MISSING" ] && echo true || echo false)" \
  "$(if [ -n "$OL_MISSING" ]; then printf '%s\n' "$OL_MISSING"; fi | ol_json_lines)" \
  "$(printf '%s' "$OL_DEV" | ol_json_string)" \
  "$(printf '%s' "$OL_IPERF3" | ol_json_string)" \
  "$(printf '%s' "$OL_IPERF3_VERSION" | ol_json_string)" \
  "$(uname -r | ol_json_string)"
if [ -n "$OL_MISSING" ]; then
  echo "guest-check: the guest image lacks: $(printf '%s\n' "$OL_MISSING" | awk 'NR > 1 { printf "; " } { printf "%s", $0 }')" >&2
  exit 1
fi
