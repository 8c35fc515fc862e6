import type { LabConfig } from "../../config/model";
import { scriptFile } from "../script/files";
import { hostScript } from "../script/hostScript";
import type { Step } from "../step";
import type { Transport } from "../transport/transport";
import { FIREWALL_LIB, labPorts } from "../host-firewall/step";
import { parseHostReadiness, type HostReadiness } from "./output";

const CREATE = scriptFile(__dirname, "create.sh");

/** Debian / RHEL packages of each program a step runs on the KVM host, printed when it is missing. */
const PACKAGES: Readonly<Record<string, string>> = {
  virsh: "libvirt-clients (Debian) / libvirt-client (RHEL)",
  "qemu-img": "qemu-utils (Debian) / qemu-img (RHEL)",
  ip: "iproute2",
  ethtool: "ethtool",
  // Every step reads and writes JSON on the host (qemu-img info, QEMU's qom-get, agent replies) with jq.
  jq: "jq",
  xmlstarlet: "xmlstarlet",
  tcpdump: "tcpdump",
  ssh: "openssh-client (Debian) / openssh-clients (RHEL)",
};

interface Tool {
  readonly command: string;
  readonly install: string;
}

const tool = (command: string, install?: string): Tool => ({
  command,
  install: install ?? PACKAGES[command] ?? `the package that provides ${command}`,
});

/** What the lab's steps run on the host, then what the transport to the guest runs there too. */
function requiredTools(cfg: LabConfig, transport: Transport): Tool[] {
  const tools = [
    tool("virsh"),
    tool("qemu-img"),
    tool("ip"),
    tool("ethtool"),
    tool("jq"),
    tool("xmlstarlet"),
    tool(cfg.iperf3.binary, "iperf3"),
    ...(cfg.capture.frames ? [tool("tcpdump")] : []),
  ];
  for (const command of transport.hostTools) {
    if (!tools.some((t) => t.command === command)) tools.push(tool(command));
  }
  return tools;
}

/** QEMU 8.2 brought virtio-net's USO properties; libvirt 8.2 brought <qemu:override>. */
const USO_MIN_QEMU = "8.2";
const USO_MIN_LIBVIRT = "8.2";
const USO_PROPERTIES = ["host_uso", "guest_uso4", "guest_uso6"] as const;

/**
 * What of USO the stack needs from the host, in the words of its settings: any USO property
 * on the device (QEMU without them refuses to start the domain), or USO on in the guest (the
 * device must offer it). Empty when it asks nothing of USO.
 */
function usoWanted(cfg: LabConfig): { wanted: string; properties: boolean } {
  const properties = USO_PROPERTIES.filter((p) => cfg.guest.virtioNetFeatures[p] !== undefined);
  const guestUso = cfg.offloads.uso.ipv4 === true || cfg.offloads.uso.ipv6 === true;
  const wanted = [
    ...(properties.length > 0 ? [`guest.virtioNetFeatures ${properties.join(", ")}`] : []),
    ...(guestUso ? ["guestOffloads.uso on"] : []),
    // The on arm of every pair switches the guest's USO on: the device must offer it.
    ...(cfg.matrix.usoArms ? ["matrix.usoArms (the guest's USO on in every other cell)"] : []),
  ].join(" and ");
  return { wanted, properties: properties.length > 0 };
}

/**
 * Fails early, with one message naming everything to install, when the KVM host cannot run
 * the lab (the transport's own tools included), or cannot give the USO the stack asks for;
 * otherwise records the kernel, libvirt and QEMU versions every result depends on.
 */
export function hostReadinessStep(cfg: LabConfig, transport: Transport): Step<HostReadiness> {
  const tools = requiredTools(cfg, transport);
  const uso = usoWanted(cfg);
  return {
    name: "host-readiness",
    component: "LabHost",
    runsOn: "host",
    create: hostScript({
      step: "host-readiness",
      file: CREATE,
      libraries: [FIREWALL_LIB],
      values: {
        URI: cfg.libvirt.uri,
        DOMAIN_TYPE: cfg.libvirt.domainType,
        TOOLS: tools.map((t) => t.command),
        PACKAGES: tools.map((t) => t.install),
        USO_WANTED: uso.wanted,
        USO_PROPERTIES: uso.properties ? 1 : 0,
        MIN_QEMU: USO_MIN_QEMU,
        MIN_LIBVIRT: USO_MIN_LIBVIRT,
        BRIDGE: cfg.network.bridge,
        PORTS: labPorts(cfg),
        FIREWALL: cfg.host.firewall,
      },
    }),
    dependsOn: [],
    // Every later step inherits these: capture, iperf3, transport and offload settings stay
    // out, or toggling them would reprovision the network and the guest (a USO the device
    // lacks is still caught by the guest-offloads read-back).
    triggers: [cfg.libvirt.uri, cfg.libvirt.domainType],
    effect: {
      changes: `nothing: checks the KVM host's tools, libvirt at ${cfg.libvirt.uri} and QEMU, and records their versions and the firewall between the guest and ${labPorts(cfg).join(", ")}`,
    },
    parse: parseHostReadiness,
  };
}
