import type { LabConfig } from "../config/model";
import { shArgs } from "./quote";
import type { Step } from "./step";
import { bash, hostScript } from "./libvirt/hostScript";

export const HOST_READINESS_STEP = "host-readiness";

interface Tool {
  readonly command: string;
  /** Debian / RHEL package names, printed when the tool is missing. */
  readonly install: string;
}

function requiredTools(cfg: LabConfig): Tool[] {
  return [
    { command: "virsh", install: "libvirt-clients (Debian) / libvirt-client (RHEL)" },
    { command: "qemu-img", install: "qemu-utils (Debian) / qemu-img (RHEL)" },
    { command: "ip", install: "iproute2" },
    { command: "ethtool", install: "ethtool" },
    // Every step reads JSON on the host (qemu-img info, QEMU's qom-get, agent replies) with jq.
    { command: "jq", install: "jq" },
    { command: "xmlstarlet", install: "xmlstarlet" },
    { command: cfg.iperf3.binary, install: "iperf3" },
    ...(cfg.capture.enabled ? [{ command: "tcpdump", install: "tcpdump" }] : []),
  ];
}

/** QEMU 8.2 brought virtio-net's USO properties; libvirt 8.2 brought <qemu:override>. */
export const USO_MIN_QEMU = "8.2";
export const USO_MIN_LIBVIRT = "8.2";
const USO_PROPERTIES = ["host_uso", "guest_uso4", "guest_uso6"] as const;

/**
 * What of USO the stack needs from the host: any USO property on the device (QEMU without
 * them refuses to start the domain), or USO on in the guest (the device must offer it).
 */
export function usoAsked(cfg: LabConfig): { properties: string[]; guestUso: boolean } {
  const properties = USO_PROPERTIES.filter((p) => cfg.guest.virtioNetFeatures[p] !== undefined);
  return { properties, guestUso: cfg.offloads.uso.ipv4 === true || cfg.offloads.uso.ipv6 === true };
}

function usoWanted(cfg: LabConfig): string {
  const { properties, guestUso } = usoAsked(cfg);
  return [
    ...(properties.length > 0 ? [`guest.virtioNetFeatures ${properties.join(", ")}`] : []),
    ...(guestUso ? ["guestOffloads.uso on"] : []),
  ].join(" and ");
}

const BODY = bash`
missing=()
for i in "\${!TOOLS[@]}"; do
  command -v -- "\${TOOLS[$i]}" >/dev/null 2>&1 || missing+=("\${TOOLS[$i]} (install: \${PACKAGES[$i]})")
done
if [ "$DOMAIN_TYPE" = kvm ] && [ ! -c /dev/kvm ]; then
  missing+=("/dev/kvm (domainType kvm needs hardware virtualisation; or set libvirt.domainType qemu)")
fi
if [ "\${#missing[@]}" -gt 0 ]; then
  fail "the KVM host lacks: $(printf '%s; ' "\${missing[@]}")"
fi
versions=$(virsh -c "$URI" version --daemon 2>"$work/err") \
  || fail "libvirt at $URI does not answer ($(tr '\n' ' ' < "$work/err")): start libvirtd (systemctl enable --now libvirtd)"
field() { printf '%s\n' "$versions" | sed -n "s/^$1: *//p" | sed -n 1p; }
libvirt=$(field 'Running against daemon')
hypervisor=$(field 'Running hypervisor')
qemu=\${hypervisor##* }
# The emulator libvirt would start for this domain type; its virtio-net lists what it offers.
virsh -c "$URI" domcapabilities --virttype "$DOMAIN_TYPE" >"$work/domcaps.xml" 2>"$work/err" \
  || fail "libvirt at $URI has no emulator for domain type $DOMAIN_TYPE: $(tr '\n' ' ' < "$work/err")"
emulator=$(xmlstarlet sel -t -v /domainCapabilities/path "$work/domcaps.xml")
"$emulator" -device virtio-net-pci,help >"$work/virtio-net.txt" 2>&1 \
  || fail "$emulator -device virtio-net-pci,help failed: $(tail -n 3 "$work/virtio-net.txt" | tr '\n' ' ')"
host_uso=false
grep -Eq '^ *host_uso=' "$work/virtio-net.txt" && host_uso=true
older() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n 1)" != "$2" ]; }
if [ -n "$USO_WANTED" ]; then
  if [ "$host_uso" != true ]; then
    fail "the stack asks for $USO_WANTED, but QEMU $qemu ($emulator) has no virtio-net host_uso: USO needs QEMU >= $MIN_QEMU and libvirt >= $MIN_LIBVIRT (this host: QEMU $qemu, libvirt $libvirt); on Debian 12 install qemu-system-x86 from bookworm-backports"
  fi
  if [ "$USO_PROPERTIES" = 1 ] && older "$libvirt" "$MIN_LIBVIRT"; then
    fail "the stack asks for $USO_WANTED, set through <qemu:override>, which needs libvirt >= $MIN_LIBVIRT (this host: libvirt $libvirt, QEMU $qemu)"
  fi
fi
jq -nc --arg kernel "$(uname -r)" --arg libvirt "$libvirt" --arg libvirtClient "$(field 'Using library' | sed 's/^libvirt *//')" \
  --arg qemu "$qemu" --arg hypervisor "$hypervisor" --arg emulator "$emulator" --argjson qemuHostUso "$host_uso" \
  '{kernel: $kernel, libvirt: $libvirt, libvirtClient: $libvirtClient, qemu: $qemu, hypervisor: $hypervisor, emulator: $emulator, qemuHostUso: $qemuHostUso}'
`;

/**
 * Fails early, with one message naming everything to install, when the KVM host cannot run
 * the lab, or cannot give the USO the stack asks for; otherwise records the kernel, libvirt
 * and QEMU versions every result depends on, and whether this QEMU's virtio-net has host_uso.
 */
export function hostReadinessStep(cfg: LabConfig): Step {
  const tools = requiredTools(cfg);
  const arrays = [
    `TOOLS=(${shArgs(tools.map((t) => t.command))})`,
    `PACKAGES=(${shArgs(tools.map((t) => t.install))})`,
  ].join("\n");
  return {
    name: HOST_READINESS_STEP,
    component: "LabHost",
    runsOn: "host",
    language: "sh",
    create: hostScript(
      {
        URI: cfg.libvirt.uri,
        DOMAIN_TYPE: cfg.libvirt.domainType,
        USO_WANTED: usoWanted(cfg),
        USO_PROPERTIES: usoAsked(cfg).properties.length > 0 ? 1 : 0,
        MIN_QEMU: USO_MIN_QEMU,
        MIN_LIBVIRT: USO_MIN_LIBVIRT,
      },
      `${arrays}\n${BODY}`,
    ),
    dependsOn: [],
    // Every later step inherits these: capture, iperf3 and offload settings stay out, or
    // toggling them would reprovision the network and the guest (a USO the device lacks is
    // still caught by the guest-offloads read-back).
    triggers: [cfg.libvirt.uri, cfg.libvirt.domainType],
  };
}
