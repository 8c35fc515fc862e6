import { createHash } from "node:crypto";
import ipaddr from "ipaddr.js";
import { ConfigError, type ConfigProblem } from "./errors";
import { issueProblems } from "./issueProblems";
import type { LabConfig, NetworkConfig } from "./model";
import { crossProblems, defaultPayloads, overlayPathOf } from "./rules";
import { labSchema, type LabSettings } from "./schema";
import { tolerantParse } from "./tolerantParse";

export { NAMESPACE } from "./namespace";

/** Raw settings of one stack: key (without namespace) → value, secrets as SecretValue. */
export type RawSettings = Readonly<Record<string, unknown>>;

/** The derived network; the guest address is checked by a rule (src/config/rules.ts). */
function deriveNetwork(s: LabSettings): NetworkConfig {
  const n = s.network;
  const [base, prefix] = ipaddr.IPv4.parseCIDR(n.cidr);
  const baseInt = base.toByteArray().reduce((a, b) => a * 256 + b, 0);
  const size = 2 ** (32 - prefix);
  const ip = (offset: number) => ipaddr.fromByteArray(
    [24, 16, 8, 0].map((shift) => Math.floor((baseInt + offset) / 2 ** shift) % 256),
  ).toString();
  const dedicated = n.mode === "dedicated";
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
    guestAddress: n.guestAddress ?? (dedicated ? ip(Math.min(10, size - 2)) : undefined),
    mtu: n.mtu,
  };
}

function defaultMac(stack: string, guest: string): string {
  const h = createHash("sha256").update(`${stack}/${guest}`).digest();
  return ["52", "54", "00", ...[0, 1, 2].map((i) => h[i]!.toString(16).padStart(2, "0"))].join(":");
}

/** `mtu1500-uso-on`; a stack with in-lab arms carries both arms: `mtu1500-uso-arms`. */
function variantOf(s: LabSettings): string {
  if (s.matrix.usoArms) return `mtu${s.network.mtu}-uso-arms`;
  const uso = s.guestOffloads.uso?.ipv4;
  return `mtu${s.network.mtu}-uso-${uso === undefined ? "default" : uso ? "on" : "off"}`;
}

/**
 * Validates one stack's raw settings and fills in every default. All problems are reported
 * at once, before anything is registered with Pulumi or sent to a host: each setting's own,
 * and every rule across settings whose settings are valid (judged on the settings with the
 * refused values taken out).
 */
export function validateLab(stack: string, raw: RawSettings): LabConfig {
  const parsed = labSchema.safeParse(raw);
  const problems: ConfigProblem[] = parsed.success ? [] : issueProblems(raw, parsed.error.issues);
  const { settings, invalid } = parsed.success ? { settings: parsed.data, invalid: [] } : tolerantParse(raw);
  if (settings !== undefined) problems.push(...crossProblems(settings, deriveNetwork(settings), invalid));
  if (!parsed.success || problems.length > 0) throw new ConfigError(stack, problems);
  const s = parsed.data;
  const network = deriveNetwork(s);

  const g = s.guest;
  const windows = g.os === "windows";
  const payloads = s.matrix.payloads ?? defaultPayloads(network.mtu);
  return {
    stack,
    variant: variantOf(s),
    host: s.host,
    hostName: s.hostName,
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
      installNetkvm: g.installNetkvm,
      mac: g.mac ?? defaultMac(stack, g.name),
      machineType: g.machineType,
      firmware: g.firmware,
      tpm: g.tpm,
      tapName: g.tapName,
      queues: g.queues,
      virtioNetFeatures: g.virtioNetFeatures ?? {},
      kernel: g.kernel,
      initrd: g.initrd,
      cmdline: g.cmdline,
      access: g.access,
      ssh: {
        user: g.ssh?.user ?? (windows ? "Administrator" : "root"),
        port: g.ssh?.port ?? 22,
        address: g.ssh?.address ?? network.guestAddress,
        authorizedKey: g.ssh?.authorizedKey,
      },
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
