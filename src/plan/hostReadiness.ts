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
    { command: cfg.iperf3.binary, install: "iperf3" },
    ...(cfg.capture.enabled ? [{ command: "tshark", install: "tshark (Debian) / wireshark-cli (RHEL)" }] : []),
  ];
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
printf '{"kernel":%s,"libvirt":%s,"libvirtClient":%s,"qemu":%s,"hypervisor":%s}\n' \
  "$(json_str "$(uname -r)")" "$(json_str "$libvirt")" "$(json_str "$(field 'Using library' | sed 's/^libvirt *//')")" \
  "$(json_str "$qemu")" "$(json_str "$hypervisor")"
`;

/**
 * Fails early, with one message naming everything to install, when the KVM host cannot run
 * the lab; otherwise records the kernel, libvirt and QEMU versions every result depends on.
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
    create: hostScript({ URI: cfg.libvirt.uri, DOMAIN_TYPE: cfg.libvirt.domainType }, `${arrays}\n${BODY}`),
    dependsOn: [],
    // Every later step inherits these: capture and iperf3 settings stay out, or toggling
    // them would reprovision the network and the guest.
    triggers: [cfg.libvirt.uri, cfg.libvirt.domainType],
  };
}
