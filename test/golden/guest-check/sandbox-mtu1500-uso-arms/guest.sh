# offload-lab guest-check (Linux guest): src/plan/guest-check/linux.sh, after the stack's values
set -u
OL_LINUX_INTERFACE=eth0
OL_MAC=52:54:00:5f:70:9f
IPERF3=/usr/bin/iperf3
NEED_GSRO=yes
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
# The first guest step on a Linux guest: checks that the base image has what the lab needs
# and names everything missing at once. Prints one JSON document; exits 1 when something is
# missing. Bound before this: IPERF3 (guest.iperf3Path) and NEED_GSRO (yes when the matrix
# has gso senders, which are iperf3 --gsro); OL_DEV is the lab interface (linux-interface.sh).
: "${IPERF3:?}" "${NEED_GSRO:?}"
missing=
for tool in ethtool ip awk sed tr; do
  command -v "$tool" >/dev/null 2>&1 || missing="$missing$tool
"
done
if command -v ip >/dev/null 2>&1 && ! ip -j link show >/dev/null 2>&1; then
  missing="${missing}ip with JSON output (-j): iproute2 4.14 or newer
"
fi
iperf3_version=
if command -v "$IPERF3" >/dev/null 2>&1; then
  iperf3_version=$("$IPERF3" --version 2>&1 | sed -n 1p)
  # An older iperf3 would fail every gso cell: say it here.
  if [ "$NEED_GSRO" = yes ] && ! "$IPERF3" --help 2>&1 | grep -q -- '--gsro'; then
    missing="${missing}iperf3 with --gsro (3.21 or newer) for matrix.senders gso, not $iperf3_version
"
  fi
else
  missing="${missing}iperf3 at $IPERF3 (guest.iperf3Path)
"
fi
[ -n "$OL_DEV" ] || missing="$missing$OL_DEV_WANTED
"
missing=${missing%
}
ok=true
[ -z "$missing" ] || ok=false
printf '{"ok":%s,"missing":%s,"interface":%s,"iperf3Path":%s,"iperf3Version":%s,"kernel":%s}\n' \
  "$ok" \
  "$(if [ -n "$missing" ]; then printf '%s\n' "$missing"; fi | ol_json_lines)" \
  "$(printf '%s' "$OL_DEV" | ol_json_string)" \
  "$(printf '%s' "$IPERF3" | ol_json_string)" \
  "$(printf '%s' "$iperf3_version" | ol_json_string)" \
  "$(uname -r | ol_json_string)"
if [ -n "$missing" ]; then
  echo "guest-check: the guest image lacks: $(printf '%s\n' "$missing" | awk 'NR > 1 { printf "; " } { printf "%s", $0 }')" >&2
  exit 1
fi
