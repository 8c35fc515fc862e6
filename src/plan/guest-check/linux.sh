# shellcheck shell=sh
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
