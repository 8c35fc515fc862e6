import type { LabConfig } from "../../config/model";
import { shArgs } from "../quote";
import type { Step } from "../step";
import { NIC_ALIAS, domainXml } from "./domainXml";
import { DISK_STEP } from "./diskStep";
import { bash, hostScript } from "./hostScript";
import { NETWORK_STEP } from "./networkStep";

export const DOMAIN_STEP = "guest-domain";

const CREATE = bash`
# Fail before defining anything when this host's QEMU cannot give what the config asks for.
virsh -c "$URI" domcapabilities --virttype "$DOMAIN_TYPE" --arch x86_64 --machine "$MACHINE" > "$work/caps.xml" 2>"$work/err" \
  || fail "QEMU at $URI cannot run machine type $MACHINE as $DOMAIN_TYPE ($(tr '\n' ' ' < "$work/err")); list them with: virsh domcapabilities"
if [ "$FIRMWARE" = uefi ] && ! grep -q '<value>efi</value>' "$work/caps.xml"; then
  fail "libvirt finds no UEFI firmware for $MACHINE: install ovmf (Debian) / edk2-ovmf (RHEL), or set guest.firmware bios"
fi
if [ "$TPM" = yes ] && ! command -v swtpm >/dev/null 2>&1; then
  fail "guest.tpm needs swtpm on the KVM host: install swtpm and swtpm-tools, or set guest.tpm false"
fi
if [ "\${#FEATURES[@]}" -gt 0 ]; then
  emulator=$(sed -n 's|^ *<path>\(.*\)</path>$|\1|p' "$work/caps.xml" | sed -n 1p)
  "$emulator" -device virtio-net-pci,help > "$work/nic-props" 2>&1 || fail "cannot list the virtio-net properties of $emulator"
  lacking=()
  for f in "\${FEATURES[@]}"; do grep -q "^ *$f=" "$work/nic-props" || lacking+=("$f"); done
  [ "\${#lacking[@]}" -eq 0 ] \
    || fail "$emulator has no virtio-net property \${lacking[*]} (USO properties need QEMU >= 8.2 and machine type pc-q35-8.2 or newer)"
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
for i in "\${!PROPERTIES[@]}"; do
  name=\${PROPERTIES[$i]}
  want=\${EXPECTED[$i]}
  got=$(qom_get "$name")
  [ "$got" = "$want" ] || fail "NIC property $name of $DOM is '$got' in QEMU, configured $want"
  device+="\${device:+,}\"$name\":$got"
done

address=$GUEST_ADDRESS
if [ -z "$address" ]; then
  address=$(virsh -c "$URI" -q net-dhcp-leases --network "$NET" --mac "$MAC" 2>/dev/null | awk '{ print $5 }' | cut -d/ -f1 | sed -n 1p || true)
fi
address_json=null
[ -z "$address" ] || address_json=$(json_str "$address")
printf '{"domain":%s,"state":"running","tap":%s,"tapMtu":%s,"bridge":%s,"mac":%s,"guestAddress":%s,"device":{%s}}\n' \
  "$(json_str "$DOM")" "$(json_str "$TAP")" "$tap_mtu" "$(json_str "$bridge")" "$(json_str "$MAC")" "$address_json" "$device"
`;

const DELETE = bash`
if virsh -c "$URI" dominfo --domain "$DOM" >/dev/null 2>&1; then
  if [ "$(virsh -c "$URI" domstate --domain "$DOM" | sed -n 1p)" != "shut off" ]; then
    virsh -c "$URI" destroy --domain "$DOM" >&2
  fi
  virsh -c "$URI" undefine --nvram --domain "$DOM" >&2
else
  note "domain $DOM is already gone"
fi
deadline=$((SECONDS + 30))
while [ -e "/sys/class/net/$TAP" ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail "tap $TAP still exists after domain $DOM was removed"
  sleep 1
done
`;

/** Each NIC property read back from QEMU and the JSON value it must have. */
function expectedDeviceProperties(cfg: LabConfig): [string, string][] {
  const g = cfg.guest;
  return [
    ["host_mtu", String(cfg.network.mtu)],
    ["mac", JSON.stringify(g.mac)],
    ["mq", String(g.queues > 1)],
    ...Object.entries(g.virtioNetFeatures).map(([name, state]): [string, string] => [name, String(state === "on")]),
  ];
}

/**
 * Defines and starts the guest, then proves the NIC came up as configured: the tap name and
 * MTU on the host, and the virtio-net properties inside QEMU.
 */
export function domainStep(cfg: LabConfig): Step {
  const xml = domainXml(cfg);
  const props = expectedDeviceProperties(cfg);
  const vars = {
    URI: cfg.libvirt.uri,
    DOM: cfg.guest.name,
    NET: cfg.network.name,
    TAP: cfg.guest.tapName,
    MTU: cfg.network.mtu,
    MAC: cfg.guest.mac,
    ALIAS: NIC_ALIAS,
    DOMAIN_TYPE: cfg.libvirt.domainType,
    MACHINE: cfg.guest.machineType,
    FIRMWARE: cfg.guest.firmware,
    TPM: cfg.guest.tpm ? "yes" : "no",
    GUEST_ADDRESS: cfg.network.guestAddress ?? "",
    START_TIMEOUT: 60,
  };
  const arrays = [
    `PROPERTIES=(${shArgs(props.map(([name]) => name))})`,
    `EXPECTED=(${shArgs(props.map(([, value]) => value))})`,
    `FEATURES=(${shArgs(Object.keys(cfg.guest.virtioNetFeatures))})`,
  ].join("\n");
  return {
    name: DOMAIN_STEP,
    component: "LabGuest",
    runsOn: "host",
    language: "sh",
    create: hostScript(vars, `${arrays}\n${CREATE}`, [{ file: "guest-domain.xml", content: xml }]),
    delete: hostScript(vars, DELETE),
    dependsOn: [NETWORK_STEP, DISK_STEP],
    triggers: [cfg.libvirt.uri, xml],
    documents: [{ file: "guest-domain.xml", content: xml }],
  };
}
