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
DOM=sandbox-lab
NET=offload-lab
TAP=tap0
MTU=1500
MAC=52\:54\:00\:e8\:0c\:a5
ALIAS=ua-lab-nic
DOMAIN_TYPE=qemu
MACHINE=q35
FIRMWARE=bios
TPM=no
GUEST_ADDRESS=10.77.0.10
START_TIMEOUT=60
cat > "$work"/guest-domain.xml <<'OFFLOAD_LAB_DOCUMENT_END'
<domain type="qemu" xmlns:qemu="http://libvirt.org/schemas/domain/qemu/1.0">
  <name>sandbox-lab</name>
  <uuid>816b29a8-1e94-5469-b26d-b5365eb398ed</uuid>
  <metadata>
    <offloadlab:definition xmlns:offloadlab="urn:offload-lab:definition" digest="sha256:2e1c6565301eca6052c4b5c87badaa7fb24ffe037c2316d9a78dcf9e752d2ff7"/>
  </metadata>
  <memory unit="MiB">512</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch="x86_64" machine="q35">hvm</type>
    <kernel>/var/lib/offload-lab/images/vmlinuz</kernel>
    <initrd>/var/lib/offload-lab/images/initrd.img</initrd>
    <cmdline>root=/dev/vda rw console=ttyS0 net.ifnames=0</cmdline>
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>
  <clock offset="utc"/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type="file" device="disk">
      <driver name="qemu" type="qcow2" discard="unmap"/>
      <source file="/var/lib/libvirt/images/sandbox-lab-overlay.qcow2"/>
      <target dev="vda" bus="virtio"/>
    </disk>
    <interface type="network">
      <mac address="52:54:00:e8:0c:a5"/>
      <source network="offload-lab"/>
      <target dev="tap0"/>
      <model type="virtio"/>
      <mtu size="1500"/>
      <alias name="ua-lab-nic"/>
    </interface>
    <channel type="unix">
      <target type="virtio" name="org.qemu.guest_agent.0"/>
    </channel>
    <serial type="pty"/>
    <console type="pty"/>
    <memballoon model="virtio"/>
  </devices>
  <qemu:override>
    <qemu:device alias="ua-lab-nic">
      <qemu:frontend>
        <qemu:property name="host_uso" type="bool" value="true"/>
      </qemu:frontend>
    </qemu:device>
  </qemu:override>
</domain>
OFFLOAD_LAB_DOCUMENT_END
PROPERTIES=(host_mtu mac mq host_uso)
EXPECTED=(1500 '"52:54:00:e8:0c:a5"' false true)
FEATURES=(host_uso)

# Fail before defining anything when this host's QEMU cannot give what the config asks for.
virsh -c "$URI" domcapabilities --virttype "$DOMAIN_TYPE" --arch x86_64 --machine "$MACHINE" > "$work/caps.xml" 2>"$work/err" \
  || fail "QEMU at $URI cannot run machine type $MACHINE as $DOMAIN_TYPE ($(tr '\n' ' ' < "$work/err")); list them with: virsh domcapabilities"
if [ "$FIRMWARE" = uefi ] && ! grep -q '<value>efi</value>' "$work/caps.xml"; then
  fail "libvirt finds no UEFI firmware for $MACHINE: install ovmf (Debian) / edk2-ovmf (RHEL), or set guest.firmware bios"
fi
if [ "$TPM" = yes ] && ! command -v swtpm >/dev/null 2>&1; then
  fail "guest.tpm needs swtpm on the KVM host: install swtpm and swtpm-tools, or set guest.tpm false"
fi
if [ "${#FEATURES[@]}" -gt 0 ]; then
  emulator=$(sed -n 's|^ *<path>\(.*\)</path>$|\1|p' "$work/caps.xml" | sed -n 1p)
  "$emulator" -device virtio-net-pci,help > "$work/nic-props" 2>&1 || fail "cannot list the virtio-net properties of $emulator"
  lacking=()
  for f in "${FEATURES[@]}"; do grep -q "^ *$f=" "$work/nic-props" || lacking+=("$f"); done
  [ "${#lacking[@]}" -eq 0 ] \
    || fail "$emulator has no virtio-net property ${lacking[*]} (USO properties need QEMU >= 8.2 and machine type pc-q35-8.2 or newer)"
fi
state() { virsh -c "$URI" domstate --domain "$DOM" | sed -n 1p; }
digest=$(grep -o 'digest="sha256:[0-9a-f]*"' "$work/guest-domain.xml")
virsh -c "$URI" dumpxml --inactive --domain "$DOM" > "$work/defined.xml" 2>/dev/null || true
if grep -qF "$digest" "$work/defined.xml"; then changed=no; else changed=yes; fi
virsh -c "$URI" define --file "$work/guest-domain.xml" >&2
if [ "$(state)" != "shut off" ] && [ "$changed" = yes ]; then
  note "restarting $DOM to apply its new definition"
  virsh -c "$URI" destroy --domain "$DOM" >&2
fi
case "$(state)" in
  running) note "domain $DOM is already running" ;;
  paused) virsh -c "$URI" resume --domain "$DOM" >&2 ;;
  "shut off"|crashed) virsh -c "$URI" start --domain "$DOM" >&2 ;;
  *) virsh -c "$URI" destroy --domain "$DOM" >&2; virsh -c "$URI" start --domain "$DOM" >&2 ;;
esac
deadline=$((SECONDS + START_TIMEOUT))
until [ "$(state)" = running ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail "domain $DOM is '$(state)', not running, after $START_TIMEOUT s"
  sleep 1
done

tap=$(virsh -c "$URI" domiflist --domain "$DOM" | awk -v mac="$MAC" '$5 == mac { print $1 }')
[ "$tap" = "$TAP" ] || fail "the NIC of $DOM ($MAC) is on tap '$tap', configured $TAP"
tap_mtu=$(cat "/sys/class/net/$TAP/mtu" 2>/dev/null) || fail "tap $TAP is not visible on this host"
[ "$tap_mtu" = "$MTU" ] || fail "tap $TAP has MTU $tap_mtu, configured $MTU"
master() { basename "$(readlink "/sys/class/net/$TAP/master" 2>/dev/null || echo none)"; }
net_bridge=$(virsh -c "$URI" net-info --network "$NET" | awk '$1 == "Bridge:" { print $2 }')
bridge=$(master)
if [ "$bridge" != "$net_bridge" ]; then
  # Restarting a network (a new MTU in adopt mode) leaves running guests' taps unplugged.
  note "tap $TAP is not on bridge $net_bridge of network $NET: plugging it back"
  ip link set dev "$TAP" master "$net_bridge"
  bridge=$(master)
  [ "$bridge" = "$net_bridge" ] || fail "tap $TAP is on '$bridge', not on bridge $net_bridge of network $NET"
fi

# What QEMU's device really has, property by property, not what libvirt was asked for.
qom_get() {
  virsh -c "$URI" qemu-monitor-command --domain "$DOM" \
    "{\"execute\":\"qom-get\",\"arguments\":{\"path\":\"/machine/peripheral/$ALIAS\",\"property\":\"$1\"}}" \
    | jq -c '.return'
}
device=""
for i in "${!PROPERTIES[@]}"; do
  name=${PROPERTIES[$i]}
  want=${EXPECTED[$i]}
  got=$(qom_get "$name")
  [ "$got" = "$want" ] || fail "NIC property $name of $DOM is '$got' in QEMU, configured $want"
  device+="${device:+,}\"$name\":$got"
done

address=$GUEST_ADDRESS
if [ -z "$address" ]; then
  address=$(virsh -c "$URI" -q net-dhcp-leases --network "$NET" --mac "$MAC" 2>/dev/null | awk '{ print $5 }' | cut -d/ -f1 | sed -n 1p || true)
fi
address_json=null
[ -z "$address" ] || address_json=$(json_str "$address")
printf '{"domain":%s,"state":"running","tap":%s,"tapMtu":%s,"bridge":%s,"mac":%s,"guestAddress":%s,"device":{%s}}\n' \
  "$(json_str "$DOM")" "$(json_str "$TAP")" "$tap_mtu" "$(json_str "$bridge")" "$(json_str "$MAC")" "$address_json" "$device"
