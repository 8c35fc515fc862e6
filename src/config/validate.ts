import { createHash } from "node:crypto";
import ipaddr from "ipaddr.js";
import type { z } from "zod";
import { ConfigError, type ConfigProblem } from "./errors";
import { ETHTOOL_FEATURES, IPV4_UDP_HEADER_BYTES, VIRTIO_NET_FEATURES, UDP_PAYLOAD_MAX, WINDOWS_MTU_MAX, WINDOWS_MTU_MIN } from "./features";
import type { LabConfig, NetworkConfig } from "./model";
import { labSchema, type LabSettings } from "./schema";

export const NAMESPACE = "offload-lab";

/** Raw settings of one stack: key (without namespace) → value, secrets as SecretValue. */
export type RawSettings = Readonly<Record<string, unknown>>;

function keyOf(path: readonly PropertyKey[]): string {
  return `${NAMESPACE}:${path.map(String).join(".")}`;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = raw;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** Maps whose keys are names from a fixed list: an unknown key there is a misspelt feature. */
const ETHTOOL_ALLOWED = `is not an ethtool feature; allowed: ${(ETHTOOL_FEATURES as readonly string[]).join(", ")}`;
const NAMED_MAPS: Record<string, string> = {
  "hostOffloads.tap": ETHTOOL_ALLOWED,
  "hostOffloads.bridge": ETHTOOL_ALLOWED,
  "guestOffloads.ethtool": ETHTOOL_ALLOWED,
  "guest.virtioNetFeatures": `is not a virtio-net property the lab sets; allowed: ${(VIRTIO_NET_FEATURES as readonly string[]).join(", ")}`,
};

function schemaProblems(raw: RawSettings, error: z.ZodError): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code !== "unrecognized_keys") {
      problems.push({ key: keyOf(issue.path), value: valueAt(raw, issue.path), allowed: issue.message });
      continue;
    }
    const allowed = NAMED_MAPS[issue.path.map(String).join(".")] ?? "is not a setting of offload-lab (see the README's config reference)";
    for (const k of issue.keys) {
      const path = [...issue.path, k];
      problems.push({ key: keyOf(path), value: valueAt(raw, path), allowed });
    }
  }
  return problems;
}

function deriveNetwork(s: LabSettings, problems: ConfigProblem[]): NetworkConfig {
  const n = s.network;
  const [base, prefix] = ipaddr.IPv4.parseCIDR(n.cidr);
  const baseInt = base.toByteArray().reduce((a, b) => a * 256 + b, 0);
  const size = 2 ** (32 - prefix);
  const ip = (offset: number) => ipaddr.fromByteArray(
    [24, 16, 8, 0].map((shift) => Math.floor((baseInt + offset) / 2 ** shift) % 256),
  ).toString();
  const dedicated = n.mode === "dedicated";
  const guestAddress = n.guestAddress ?? (dedicated ? ip(Math.min(10, size - 2)) : undefined);
  if (guestAddress !== undefined) {
    const a = ipaddr.IPv4.parse(guestAddress);
    const offset = a.toByteArray().reduce((x, y) => x * 256 + y, 0) - baseInt;
    if (!a.match(base, prefix) || offset <= 1 || offset >= size - 1) {
      problems.push({
        key: keyOf(["network", "guestAddress"]),
        value: n.guestAddress,
        allowed: `must be a host address inside ${n.cidr}, other than the bridge's ${ip(1)}`,
      });
    }
  }
  return {
    mode: n.mode,
    name: n.name ?? (dedicated ? "offload-lab" : "default"),
    bridge: n.bridge ?? (dedicated ? "olbr0" : "virbr0"),
    cidr: n.cidr,
    prefix,
    netmask: ipaddr.IPv4.subnetMaskFromPrefixLength(prefix).toString(),
    hostAddress: ip(1),
    dhcpStart: ip(Math.max(2, Math.min(100, Math.floor(size / 2)))),
    dhcpEnd: ip(size - 2),
    guestAddress,
    mtu: n.mtu,
  };
}

function defaultMac(stack: string, guest: string): string {
  const h = createHash("sha256").update(`${stack}/${guest}`).digest();
  return ["52", "54", "00", ...[0, 1, 2].map((i) => h[i]!.toString(16).padStart(2, "0"))].join(":");
}

/** Where the guest's linked clone lives: one file per guest in guest.overlayDir. */
function overlayPathOf(g: LabSettings["guest"]): string {
  return `${g.overlayDir.replace(/\/+$/, "")}/${g.name}-overlay.qcow2`;
}

function crossChecks(s: LabSettings, network: NetworkConfig, problems: ConfigProblem[]): void {
  const g = s.guest;
  const push = (path: PropertyKey[], value: unknown, allowed: string) =>
    problems.push({ key: keyOf(path), value, allowed });
  if (g.baseImage === overlayPathOf(g)) {
    push(["guest", "baseImage"], g.baseImage, "must not be the guest's own overlay (guest.overlayDir/<guest.name>-overlay.qcow2), which would back itself: choose another guest.overlayDir");
  }
  if (g.os === "windows") {
    const guestMtu = s.guestOffloads.mtu ?? network.mtu;
    if (guestMtu < WINDOWS_MTU_MIN || guestMtu > WINDOWS_MTU_MAX) {
      const path = s.guestOffloads.mtu !== undefined ? ["guestOffloads", "mtu"] : ["network", "mtu"];
      push(path, guestMtu, `must be from ${WINDOWS_MTU_MIN} to ${WINDOWS_MTU_MAX} for a Windows guest (NetKVM *JumboPacket 590..65500 counts the 14-byte Ethernet header)`);
    }
    if (g.virtioWinIso === undefined) push(["guest", "virtioWinIso"], undefined, "is required for a Windows guest: the path of the virtio-win ISO on the KVM host");
    for (const k of ["kernel", "initrd", "cmdline"] as const) {
      if (g[k] !== undefined) push(["guest", k], g[k], "is only for a Linux guest (direct kernel boot)");
    }
    if (s.guestOffloads.ethtool !== undefined) push(["guestOffloads", "ethtool"], s.guestOffloads.ethtool, "is only for a Linux guest; a Windows guest takes uso, lso, rsc, checksum and mtu");
    if (g.linuxInterface !== undefined) push(["guest", "linuxInterface"], g.linuxInterface, "is only for a Linux guest; a Windows guest takes adapterName");
  } else if (g.adapterName !== undefined) {
    push(["guest", "adapterName"], g.adapterName, "is only for a Windows guest; a Linux guest takes linuxInterface");
  }
  if (g.initrd !== undefined && g.kernel === undefined) push(["guest", "initrd"], g.initrd, "needs guest.kernel as well");
  if (g.cmdline !== undefined && g.kernel === undefined) push(["guest", "cmdline"], g.cmdline, "needs guest.kernel as well");
  if (g.tpm && g.firmware !== "uefi") push(["guest", "tpm"], g.tpm, "needs guest.firmware uefi (Windows 11 wants both)");
  if (s.host.connection === "ssh" && s.hostSshPrivateKey === undefined) {
    push(["hostSshPrivateKey"], undefined, "is required when host.connection is ssh: pulumi config set --secret hostSshPrivateKey < KEYFILE");
  }
  if (g.access === "ssh") {
    if (s.guestSshPrivateKey === undefined) push(["guestSshPrivateKey"], undefined, "is required when guest.access is ssh: pulumi config set --secret guestSshPrivateKey < KEYFILE");
    if ((g.ssh?.address ?? network.guestAddress) === undefined) {
      push(["guest", "ssh", "address"], undefined, "is required when guest.access is ssh and network.guestAddress is unset (adopt mode leaves the guest's address to DHCP)");
    }
  }
}

function defaultPayloads(mtu: number): number[] {
  return [...new Set([mtu - IPV4_UDP_HEADER_BYTES, UDP_PAYLOAD_MAX])];
}

/**
 * A sender that cannot run on this guest, or would send nothing, would yield a cell of zeros
 * that looks like a measurement: refuse it here, saying why.
 */
function senderChecks(s: LabSettings, network: NetworkConfig, problems: ConfigProblem[]): void {
  const senders = s.matrix.senders;
  const index = (sender: string) => senders.indexOf(sender as (typeof senders)[number]);
  const key = (sender: string) => keyOf(["matrix", "senders", index(sender)]);
  const windows = s.guest.os === "windows";
  // A segmenting sender's datagram must fit one frame: above MTU − 28 there is nothing to segment.
  const oversize = (sender: "gso" | "uso", why: string) => {
    const limit = (s.guestOffloads.mtu ?? network.mtu) - IPV4_UDP_HEADER_BYTES;
    const over = (s.matrix.payloads ?? defaultPayloads(network.mtu)).filter((p) => p > limit);
    if (over.length === 0) return;
    problems.push({
      key: key(sender),
      value: sender,
      allowed: `needs every payload at most MTU − 28 = ${limit}: ${why}; payloads above it: ${over.join(", ")} (list them in matrix.payloads without them, or drop ${sender})`,
    });
  };
  if (index("gso") >= 0) {
    if (windows) {
      problems.push({ key: key("gso"), value: "gso", allowed: "is for a Linux guest only (iperf3 >= 3.21 --gsro uses Linux UDP_SEGMENT); a Windows guest takes plain or uso" });
    } else {
      oversize("gso", "iperf3 --gsro with a larger -l sends nothing at all");
    }
  }
  if (index("uso") >= 0) {
    if (!windows) {
      problems.push({ key: key("uso"), value: "uso", allowed: "is for a Windows guest only (UDP_SEND_MSG_SIZE); a Linux guest takes plain or gso" });
    } else {
      oversize("uso", "UDP_SEND_MSG_SIZE is the size of each datagram on the wire, and a larger one is IP-fragmented, not segmented");
    }
  }
}

function variantOf(s: LabSettings): string {
  const uso = s.guestOffloads.uso?.ipv4;
  return `mtu${s.network.mtu}-uso-${uso === undefined ? "default" : uso ? "on" : "off"}`;
}

/**
 * Validates one stack's raw settings and fills in every default. All problems are reported
 * at once, before anything is registered with Pulumi or sent to a host.
 */
export function validateLab(stack: string, raw: RawSettings): LabConfig {
  const parsed = labSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(stack, schemaProblems(raw, parsed.error));
  const s = parsed.data;
  const problems: ConfigProblem[] = [];
  const network = deriveNetwork(s, problems);
  crossChecks(s, network, problems);
  senderChecks(s, network, problems);
  if (problems.length > 0) throw new ConfigError(stack, problems);

  const g = s.guest;
  const windows = g.os === "windows";
  const payloads = s.matrix.payloads ?? defaultPayloads(network.mtu);
  return {
    stack,
    variant: variantOf(s),
    host: s.host,
    libvirt: s.libvirt,
    network,
    guest: {
      os: g.os,
      name: g.name,
      vcpus: g.vcpus,
      memoryMiB: g.memoryMiB,
      baseImage: g.baseImage,
      baseImageFormat: g.baseImageFormat,
      overlayPath: overlayPathOf(g),
      virtioWinIso: g.virtioWinIso,
      mac: g.mac ?? defaultMac(stack, g.name),
      machineType: g.machineType ?? (windows ? "pc-q35-8.2" : "q35"),
      firmware: g.firmware,
      tpm: g.tpm,
      tapName: g.tapName,
      queues: g.queues,
      virtioNetFeatures: g.virtioNetFeatures ?? {},
      kernel: g.kernel,
      initrd: g.initrd,
      cmdline: g.cmdline,
      access: g.access,
      ssh: { user: g.ssh?.user ?? (windows ? "Administrator" : "root"), port: g.ssh?.port ?? 22, address: g.ssh?.address ?? network.guestAddress },
      adapterName: g.adapterName,
      linuxInterface: g.linuxInterface,
      iperf3Path: g.iperf3Path ?? (windows ? "C:\\iperf3\\iperf3.exe" : "iperf3"),
      agentTimeoutSeconds: g.agentTimeoutSeconds,
    },
    offloads: {
      uso: s.guestOffloads.uso ?? {},
      lso: s.guestOffloads.lso ?? {},
      rsc: s.guestOffloads.rsc ?? {},
      checksum: s.guestOffloads.checksum ?? {},
      mtu: s.guestOffloads.mtu ?? network.mtu,
      ethtool: s.guestOffloads.ethtool ?? {},
    },
    hostOffloads: s.hostOffloads,
    iperf3: s.iperf3,
    matrix: { ...s.matrix, payloads },
    capture: s.capture,
    benchmark: s.benchmark,
    secrets: {
      hostSshPrivateKey: s.hostSshPrivateKey && { key: s.hostSshPrivateKey.key },
      guestSshPrivateKey: s.guestSshPrivateKey && { key: s.guestSshPrivateKey.key },
    },
  };
}
