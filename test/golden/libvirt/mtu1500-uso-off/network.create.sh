set -euo pipefail
export LC_ALL=C
fail() { printf 'offload-lab: %s\n' "$*" >&2; exit 1; }
note() { printf 'offload-lab: %s\n' "$*" >&2; }
# A JSON string literal for $1; config values never carry control characters, tool output might.
json_str() {
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\t'/\\t}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//[$'\001'-$'\037']/?}
  printf '"%s"' "$s"
}
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
URI=qemu\:///system
NET=default
MODE=adopt
MTU=1500
virsh -c "$URI" net-dumpxml --inactive --network "$NET" > "$work/current.xml" 2>"$work/err" \
  || fail "network $NET to adopt is not defined at $URI ($(cat "$work/err")); define it or use network.mode dedicated"
sed -n 1p "$work/current.xml" | grep '^<network[ >]' >/dev/null || fail "unexpected XML from net-dumpxml $NET"
before=$(cat "$work/current.xml")
saved=""
if ! grep -q '<offloadlab:original[ >]' "$work/current.xml"; then
  active=$(virsh -c "$URI" net-info --network "$NET" | awk '$1 == "Active:" { print $2 }')
  saved="<offloadlab:original xmlns:offloadlab=\"urn:offload-lab:adopted-network\" active=\"$active\">$(base64 -w0 "$work/current.xml")</offloadlab:original>"
  note "saved the original definition of network $NET (restored on delete)"
fi
# libvirt prints <metadata> and <mtu> on lines of their own; element order does not matter to it.
awk -v mtu="  <mtu size='$MTU'/>" -v saved="$saved" '
  /^[[:space:]]*<mtu size=.[0-9]+.\/>[[:space:]]*$/ { next }
  /^[[:space:]]*<metadata>[[:space:]]*$/ && saved != "" { print; print "    " saved; saved = ""; next }
  { print }
  NR == 1 { print mtu; if (saved != "") { print "  <metadata>" saved "</metadata>"; saved = "" } }
' "$work/current.xml" > "$work/network.xml"
virsh -c "$URI" net-define --file "$work/network.xml" >&2
after=$(virsh -c "$URI" net-dumpxml --inactive --network "$NET")

net_field() { virsh -c "$URI" net-info --network "$NET" | awk -v k="$1:" '$1 == k { print $2 }'; }
bridge=$(net_field Bridge)
[ -n "$bridge" ] || fail "network $NET has no bridge"
if [ "$(net_field Active)" = yes ]; then
  live_mtu=$(cat "/sys/class/net/$bridge/mtu" 2>/dev/null || echo none)
  if [ "$before" != "$after" ] || [ "$live_mtu" != "$MTU" ]; then
    note "restarting network $NET to apply its definition (running guests lose their tap until the guest-domain step plugs it back)"
    virsh -c "$URI" net-destroy --network "$NET" >&2
  fi
fi
[ "$(net_field Active)" = yes ] || virsh -c "$URI" net-start --network "$NET" >&2
bridge=$(net_field Bridge)
mtu=$(cat "/sys/class/net/$bridge/mtu" 2>/dev/null) || fail "bridge $bridge of network $NET is not on this host"
[ "$mtu" = "$MTU" ] || fail "bridge $bridge has MTU $mtu after start, configured $MTU"
printf '{"network":%s,"mode":%s,"bridge":%s,"mtu":%s}\n' "$(json_str "$NET")" "$(json_str "$MODE")" "$(json_str "$bridge")" "$mtu"
