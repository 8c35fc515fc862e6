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
NET=offload-lab
MODE=dedicated
MTU=1500
cat > "$work"/network.xml <<'OFFLOAD_LAB_DOCUMENT_END'
<network>
  <name>offload-lab</name>
  <uuid>811e6c09-ed4b-540a-932b-7b0ff6fd9a6c</uuid>
  <bridge name="olbr0" stp="on" delay="0"/>
  <mtu size="1500"/>
  <ip address="10.77.0.1" netmask="255.255.255.0">
    <dhcp>
      <range start="10.77.0.100" end="10.77.0.254"/>
      <host mac="52:54:00:e8:0c:a5" ip="10.77.0.10"/>
    </dhcp>
  </ip>
</network>
OFFLOAD_LAB_DOCUMENT_END
before=$(virsh -c "$URI" net-dumpxml --inactive --network "$NET" 2>/dev/null || true)
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
