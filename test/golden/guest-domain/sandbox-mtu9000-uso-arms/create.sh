#!/usr/bin/env bash
# offload-lab guest-domain: src/plan/guest-domain/create.sh, after the stack's values
set -euo pipefail
URI=qemu:///system
DOM=sandbox-lab
TAP=tap0
NET=offload-lab
MTU=9000
MAC=52:54:00:cc:26:bc
ALIAS=ua-lab-nic
DEFINITION_NS=urn:offload-lab:definition
DOMAIN_TYPE=qemu
MACHINE=q35
USO_ASKED=yes
FIRMWARE=bios
TPM=no
GUEST_ADDRESS=10.77.0.10
START_TIMEOUT=60
PROPERTIES=(host_mtu mac mq host_uso)
EXPECTED=(9000 "\"52:54:00:cc:26:bc\"" false true)
FEATURES=(host_uso)
# What every host script may call. Config values are bound above this by the generated
# preamble; tool output goes to files under $WORK (under pipefail a reader that stops early,
# like head or grep -q, could fail a pipeline through the writer's SIGPIPE).
export LC_ALL=C
# shellcheck disable=SC2317 # shared by every host step: a step that never calls it leaves it unreachable
fail() { printf 'offload-lab: %s\n' "$*" >&2; exit 1; }
# shellcheck disable=SC2317 # likewise
note() { printf 'offload-lab: %s\n' "$*" >&2; }
WORK=$(mktemp -d)
trap 'rm -rf -- "$WORK"' EXIT
# The guest's machine type, chosen on the KVM host: the newest q35 type that keeps virtio-net
# USO. Upstream QEMU turns host_uso/guest_uso4/guest_uso6 off on machine types 8.1 and older
# (hw_compat_8_1); RHEL's qemu-kvm turns USO off on pc-q35-rhel9.6.0 and older (RHEL-80313).
# The same thresholds as src/config/machineType.ts, which judges a name before any host is
# reached; these judge what the host really has, aliases resolved.
#
# ol_machines_from_help: `qemu-system-x86_64 -machine help` on stdin, names on stdout, one a line.
# ol_machines_from_capabilities FILE: the x86_64 machine names of `virsh capabilities` XML.
# ol_machine_uso NAME: prints keeps, off or unknown (an alias or another family).
# ol_newest_uso_q35: names on stdin; prints the newest q35 type that keeps USO, or nothing.

# shellcheck disable=SC2317 # a library: the tests call what the step does not
ol_machines_from_help() {
  # The first line is "Supported machines are:"; then "NAME  description".
  awk 'NR > 1 && NF > 0 { print $1 }'
}

# shellcheck disable=SC2317
ol_machines_from_capabilities() {
  xmlstarlet sel -t -m "/capabilities/guest[arch/@name='x86_64']/arch//machine" -v . -n "$1" | sort -u
}

# ol_version_at_least HAVE WANT: whether dotted version HAVE >= WANT.
# shellcheck disable=SC2317
ol_version_at_least() {
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | sed -n 1p)" = "$2" ]
}

# shellcheck disable=SC2317
ol_machine_uso() {
  local name=$1 version
  case $name in
    pc-q35-rhel[0-9]*.[0-9]*.[0-9]* | pc-i440fx-rhel[0-9]*.[0-9]*.[0-9]*)
      version=${name##*-rhel}
      if ol_version_at_least "$version" 10.0.0; then echo keeps; else echo off; fi
      ;;
    pc-q35-[0-9]*.[0-9]* | pc-i440fx-[0-9]*.[0-9]*)
      version=${name##*-}
      if ol_version_at_least "$version" 8.2; then echo keeps; else echo off; fi
      ;;
    *) echo unknown ;;
  esac
}

# shellcheck disable=SC2317
ol_newest_uso_q35() {
  local name
  while IFS= read -r name; do
    if [[ $name == pc-q35-* ]] && [ "$(ol_machine_uso "$name")" = keeps ]; then
      # The version first, so sort -V orders the types; RHEL's (rhel10.0.0) and upstream's
      # (10.0) never share a host.
      printf '%s %s\n' "${name#pc-q35-}" "$name"
    fi
  done | sort -V | sed -n '$p' | cut -d ' ' -f 2
}
cat >"$WORK/guest-domain.xml" <<'OFFLOAD_LAB_DOCUMENT_END'
<domain type="qemu" xmlns:qemu="http://libvirt.org/schemas/domain/qemu/1.0">
  <name>sandbox-lab</name>
  <uuid>f08bb0a7-0435-50c6-aeb2-d077a5575782</uuid>
  <metadata>
    <offloadlab:definition xmlns:offloadlab="urn:offload-lab:definition" digest="sha256:c506d5d469256806e92c900fc8d91fef562b4c8c50a969f137e44c1876c23d84"/>
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
      <mac address="52:54:00:cc:26:bc"/>
      <source network="offload-lab"/>
      <target dev="tap0"/>
      <model type="virtio"/>
      <mtu size="9000"/>
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
# Defines and starts the guest from guest-domain.xml (built whole by xmlbuilder2), then proves
# its NIC came up as configured: the tap's name, MTU and bridge on the host, and the virtio-net
# properties inside QEMU. Prints one JSON document of what it read back.
#
# The machine type: MACHINE as configured, or (MACHINE empty) the newest q35 type of this
# host's QEMU that keeps USO (machine-lib.sh), written into the XML before it is defined. With
# USO_ASKED=yes a type that turns USO off is refused, aliases (q35) resolved first.
: "${URI:?}" "${DOM:?}" "${NET:?}" "${TAP:?}" "${MTU:?}" "${MAC:?}" "${ALIAS:?}" "${DEFINITION_NS:?}"
: "${DOMAIN_TYPE:?}" "${MACHINE?}" "${USO_ASKED:?}" "${FIRMWARE:?}" "${TPM:?}" "${START_TIMEOUT:?}"

machine=$MACHINE
machine_from=config
if [ -z "$machine" ]; then
  machine_from=host
  virsh -c "$URI" capabilities >"$WORK/capabilities.xml" 2>"$WORK/err" \
    || fail "cannot read the capabilities of $URI to choose a machine type: $(tr '\n' ' ' <"$WORK/err")"
  ol_machines_from_capabilities "$WORK/capabilities.xml" >"$WORK/machines"
  machine=$(ol_newest_uso_q35 <"$WORK/machines")
  if [ -z "$machine" ]; then
    [ "$USO_ASKED" = no ] || fail "QEMU at $URI offers no q35 machine type that keeps USO (upstream pc-q35-8.2 or newer, RHEL pc-q35-rhel10.0.0 or newer); it has: $(tr '\n' ' ' <"$WORK/machines")"
    machine=q35
  fi
  note "machine type $machine: the newest q35 type of this host's QEMU that keeps USO (guest.machineType unset)"
  xmlstarlet ed -L -i /domain/os/type -t attr -n machine -v "$machine" "$WORK/guest-domain.xml"
fi

# Fail before defining anything when this host's QEMU cannot give what the config asks for.
virsh -c "$URI" domcapabilities --virttype "$DOMAIN_TYPE" --arch x86_64 --machine "$machine" >"$WORK/caps.xml" 2>"$WORK/err" \
  || fail "QEMU at $URI cannot run machine type $machine as $DOMAIN_TYPE ($(tr '\n' ' ' <"$WORK/err")); list them with: virsh domcapabilities"
# An alias (q35) is judged by the type it stands for, as libvirt names it.
canonical=$(xmlstarlet sel -t -v /domainCapabilities/machine "$WORK/caps.xml" || true)
if [ "$USO_ASKED" = yes ] && [ "$(ol_machine_uso "${canonical:-$machine}")" = off ]; then
  fail "machine type $machine${canonical:+ ($canonical)} turns USO off (upstream QEMU 8.1 and older: hw_compat_8_1; RHEL pc-q35-rhel9.6.0 and older: RHEL-80313), and the stack asks for USO: leave guest.machineType unset or name pc-q35-8.2 / pc-q35-rhel10.0.0 or newer"
fi
if [ "$FIRMWARE" = uefi ] \
  && [ "$(xmlstarlet sel -t -v "count(/domainCapabilities/os/enum[@name='firmware']/value[.='efi'])" "$WORK/caps.xml")" = 0 ]; then
  fail "libvirt finds no UEFI firmware for $machine: install ovmf (Debian) / edk2-ovmf (RHEL), or set guest.firmware bios"
fi
if [ "$TPM" = yes ] && ! command -v swtpm >/dev/null 2>&1; then
  fail "guest.tpm needs swtpm on the KVM host: install swtpm and swtpm-tools, or set guest.tpm false"
fi
if [ "${#FEATURES[@]}" -gt 0 ]; then
  emulator=$(xmlstarlet sel -t -v /domainCapabilities/path "$WORK/caps.xml")
  "$emulator" -device virtio-net-pci,help >"$WORK/nic-props" 2>&1 || fail "cannot list the virtio-net properties of $emulator"
  lacking=()
  # QEMU's help is text, one "  name=<type>" per property.
  for f in "${FEATURES[@]}"; do grep -q "^ *$f=" "$WORK/nic-props" || lacking+=("$f"); done
  [ "${#lacking[@]}" -eq 0 ] \
    || fail "$emulator has no virtio-net property ${lacking[*]} (USO properties need QEMU >= 8.2 and machine type pc-q35-8.2 or newer)"
fi

state() { virsh -c "$URI" domstate --domain "$DOM" | sed -n 1p; }
# The digest in the definition's <metadata>: libvirt reorders what it adds, so comparing the
# dumped XML cannot tell whether this run changes the definition; the digest can.
digest_of() { xmlstarlet sel -N offloadlab="$DEFINITION_NS" -t -v /domain/metadata/offloadlab:definition/@digest "$1" || true; }
digest=$(digest_of "$WORK/guest-domain.xml")
[ -n "$digest" ] || fail "guest-domain.xml carries no definition digest"
virsh -c "$URI" dumpxml --inactive --domain "$DOM" >"$WORK/defined.xml" 2>/dev/null || true
if [ -s "$WORK/defined.xml" ] && [ "$(digest_of "$WORK/defined.xml")" = "$digest" ]; then changed=no; else changed=yes; fi
virsh -c "$URI" define --file "$WORK/guest-domain.xml" >&2
if [ "$(state)" != "shut off" ] && [ "$changed" = yes ]; then
  note "restarting $DOM to apply its new definition"
  virsh -c "$URI" destroy --domain "$DOM" >&2
fi
case "$(state)" in
  running) note "domain $DOM is already running" ;;
  paused) virsh -c "$URI" resume --domain "$DOM" >&2 ;;
  "shut off" | crashed) virsh -c "$URI" start --domain "$DOM" >&2 ;;
  *)
    virsh -c "$URI" destroy --domain "$DOM" >&2
    virsh -c "$URI" start --domain "$DOM" >&2
    ;;
esac
deadline=$((SECONDS + START_TIMEOUT))
until [ "$(state)" = running ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail "domain $DOM is '$(state)', not running, after $START_TIMEOUT s"
  sleep 1
done

# The tap libvirt gave the NIC with the lab's MAC, from the running domain's definition.
virsh -c "$URI" dumpxml --domain "$DOM" >"$WORK/live.xml"
xmlstarlet sel -t -m /domain/devices/interface -v mac/@address -o ' ' -v target/@dev -n "$WORK/live.xml" >"$WORK/nics" || true
tap=$(awk -v mac="$MAC" '$1 == mac { print $2 }' "$WORK/nics")
[ "$tap" = "$TAP" ] || fail "the NIC of $DOM ($MAC) is on tap '$tap', configured $TAP"
tap_mtu=$(cat "/sys/class/net/$TAP/mtu" 2>/dev/null) || fail "tap $TAP is not visible on this host"
[ "$tap_mtu" = "$MTU" ] || fail "tap $TAP has MTU $tap_mtu, configured $MTU"
master() { basename "$(readlink "/sys/class/net/$TAP/master" 2>/dev/null || echo none)"; }
virsh -c "$URI" net-dumpxml --network "$NET" >"$WORK/network.xml"
net_bridge=$(xmlstarlet sel -t -v /network/bridge/@name "$WORK/network.xml" || true)
[ -n "$net_bridge" ] || fail "network $NET has no bridge"
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
    "$(jq -nc --arg path "/machine/peripheral/$ALIAS" --arg property "$1" \
      '{execute: "qom-get", arguments: {path: $path, property: $property}}')" >"$WORK/qom.json" 2>"$WORK/err" \
    || fail "QEMU of $DOM did not answer qom-get $1 on $ALIAS: $(tr '\n' ' ' <"$WORK/err")"
  jq -c .return "$WORK/qom.json"
}
echo '{}' >"$WORK/device.json"
for i in "${!PROPERTIES[@]}"; do
  name=${PROPERTIES[$i]}
  want=${EXPECTED[$i]}
  got=$(qom_get "$name")
  [ "$got" = "$want" ] || fail "NIC property $name of $DOM is '$got' in QEMU, configured $want"
  jq -c --arg name "$name" --argjson value "$got" '. + {($name): $value}' "$WORK/device.json" >"$WORK/device.next"
  mv "$WORK/device.next" "$WORK/device.json"
done

address=$GUEST_ADDRESS
if [ -z "$address" ]; then
  # `virsh net-dhcp-leases` prints a text table; the fifth column is the address with its prefix.
  virsh -c "$URI" -q net-dhcp-leases --network "$NET" --mac "$MAC" >"$WORK/leases" 2>/dev/null || true
  address=$(awk '{ print $5 }' "$WORK/leases" | cut -d/ -f1 | sed -n 1p)
fi
# The machine type the guest runs, as libvirt recorded it (an alias resolved).
running_machine=$(xmlstarlet sel -t -v /domain/os/type/@machine "$WORK/live.xml" || true)
jq -nc --arg domain "$DOM" --arg tap "$TAP" --argjson tapMtu "$tap_mtu" --arg bridge "$bridge" --arg mac "$MAC" \
  --arg address "$address" --slurpfile device "$WORK/device.json" --arg machine "${running_machine:-$machine}" \
  --arg machineFrom "$machine_from" \
  '{domain: $domain, state: "running", tap: $tap, tapMtu: $tapMtu, bridge: $bridge, mac: $mac,
    guestAddress: (if $address == "" then null else $address end), device: $device[0],
    machineType: $machine, machineTypeFrom: $machineFrom}'
