import ipaddr from "ipaddr.js";
import type { ConfigProblem } from "./errors";
import { IPV4_UDP_HEADER_BYTES, UDP_PAYLOAD_MAX, WINDOWS_MTU_MAX, WINDOWS_MTU_MIN } from "./features";
import type { NetworkConfig } from "./model";
import { NAMESPACE } from "./namespace";
import type { LabSettings } from "./schema";

/**
 * Rules that involve two or more settings. Each names the settings it reads: validation runs
 * every rule whose settings are all valid, even when other settings are not, so a stack shows
 * all of its problems at once; a rule that reads a refused value is skipped (that value's own
 * problem is reported, and judging the rule on a default would be guessing).
 */
export interface CrossRule {
  /** Dotted setting paths the rule reads (`guest.os`); a whole section is its name (`host`). */
  readonly reads: readonly string[];
  readonly check: (s: LabSettings, network: NetworkConfig) => ConfigProblem[];
}

const problem = (path: string, value: unknown, allowed: string): ConfigProblem => ({ key: `${NAMESPACE}:${path}`, value, allowed });

/** Where the guest's linked clone lives: one file per guest in guest.overlayDir. */
export function overlayPathOf(g: LabSettings["guest"]): string {
  return `${g.overlayDir.replace(/\/+$/, "")}/${g.name}-overlay.qcow2`;
}

export function defaultPayloads(mtu: number): number[] {
  return [...new Set([mtu - IPV4_UDP_HEADER_BYTES, UDP_PAYLOAD_MAX])];
}

const windowsOnly = (field: "adapterName", linuxTakes: string): CrossRule => ({
  reads: ["guest.os", `guest.${field}`],
  check: (s) =>
    s.guest.os === "linux" && s.guest[field] !== undefined
      ? [problem(`guest.${field}`, s.guest[field], `is only for a Windows guest; a Linux guest takes ${linuxTakes}`)]
      : [],
});

const linuxOnly = (field: "kernel" | "initrd" | "cmdline" | "linuxInterface", allowed: string): CrossRule => ({
  reads: ["guest.os", `guest.${field}`],
  check: (s) => (s.guest.os === "windows" && s.guest[field] !== undefined ? [problem(`guest.${field}`, s.guest[field], allowed)] : []),
});

const needsKernel = (field: "initrd" | "cmdline"): CrossRule => ({
  reads: [`guest.${field}`, "guest.kernel"],
  check: (s) => (s.guest[field] !== undefined && s.guest.kernel === undefined ? [problem(`guest.${field}`, s.guest[field], "needs guest.kernel as well")] : []),
});

/**
 * A segmenting sender's datagram must fit one frame: above MTU − 28 there is nothing to
 * segment. A sender that cannot run on this guest, or would send nothing, would yield a cell
 * of zeros that looks like a measurement: refuse it here, saying why.
 */
const senderFitsFrame = (sender: "gso" | "uso", os: "linux" | "windows", why: string): CrossRule => ({
  reads: ["matrix.senders", "matrix.payloads", "guest.os", "network.mtu", "guestOffloads.mtu"],
  check: (s, network) => {
    const index = s.matrix.senders.indexOf(sender);
    if (index < 0 || s.guest.os !== os) return [];
    const limit = (s.guestOffloads.mtu ?? network.mtu) - IPV4_UDP_HEADER_BYTES;
    const over = (s.matrix.payloads ?? defaultPayloads(network.mtu)).filter((p) => p > limit);
    if (over.length === 0) return [];
    return [problem(`matrix.senders.${index}`, sender,
      `needs every payload at most MTU − 28 = ${limit}: ${why}; payloads above it: ${over.join(", ")} (list them in matrix.payloads without them, or drop ${sender})`)];
  },
});

const senderForOs = (sender: "gso" | "uso", os: "linux" | "windows", allowed: string): CrossRule => ({
  reads: ["matrix.senders", "guest.os"],
  check: (s) => {
    const index = s.matrix.senders.indexOf(sender);
    return index >= 0 && s.guest.os !== os ? [problem(`matrix.senders.${index}`, sender, allowed)] : [];
  },
});

export const CROSS_RULES: readonly CrossRule[] = [
  {
    reads: ["guest.baseImage", "guest.overlayDir", "guest.name"],
    check: (s) => (s.guest.baseImage === overlayPathOf(s.guest)
      ? [problem("guest.baseImage", s.guest.baseImage, "must not be the guest's own overlay (guest.overlayDir/<guest.name>-overlay.qcow2), which would back itself: choose another guest.overlayDir")]
      : []),
  },
  {
    reads: ["network.guestAddress", "network.cidr", "network.mode"],
    check: (s, network) => {
      if (network.guestAddress === undefined) return [];
      const [base, prefix] = ipaddr.IPv4.parseCIDR(network.cidr);
      const toInt = (a: ipaddr.IPv4) => a.toByteArray().reduce((x, y) => x * 256 + y, 0);
      const a = ipaddr.IPv4.parse(network.guestAddress);
      const offset = toInt(a) - toInt(base);
      if (a.match(base, prefix) && offset > 1 && offset < 2 ** (32 - prefix) - 1) return [];
      return [problem("network.guestAddress", s.network.guestAddress, `must be a host address inside ${network.cidr}, other than the bridge's ${network.hostAddress}`)];
    },
  },
  {
    reads: ["guest.os", "guestOffloads.mtu", "network.mtu"],
    check: (s, network) => {
      const guestMtu = s.guestOffloads.mtu ?? network.mtu;
      if (s.guest.os !== "windows" || (guestMtu >= WINDOWS_MTU_MIN && guestMtu <= WINDOWS_MTU_MAX)) return [];
      return [problem(s.guestOffloads.mtu !== undefined ? "guestOffloads.mtu" : "network.mtu", guestMtu,
        `must be from ${WINDOWS_MTU_MIN} to ${WINDOWS_MTU_MAX} for a Windows guest (NetKVM *JumboPacket 590..65500 counts the 14-byte Ethernet header)`)];
    },
  },
  {
    reads: ["guest.os", "guest.virtioWinIso"],
    check: (s) => (s.guest.os === "windows" && s.guest.virtioWinIso === undefined
      ? [problem("guest.virtioWinIso", undefined, "is required for a Windows guest: the path of the virtio-win ISO on the KVM host")]
      : []),
  },
  linuxOnly("kernel", "is only for a Linux guest (direct kernel boot)"),
  linuxOnly("initrd", "is only for a Linux guest (direct kernel boot)"),
  linuxOnly("cmdline", "is only for a Linux guest (direct kernel boot)"),
  linuxOnly("linuxInterface", "is only for a Linux guest; a Windows guest takes adapterName"),
  windowsOnly("adapterName", "linuxInterface"),
  {
    reads: ["guest.os", "guestOffloads.ethtool"],
    check: (s) => (s.guest.os === "windows" && s.guestOffloads.ethtool !== undefined
      ? [problem("guestOffloads.ethtool", s.guestOffloads.ethtool, "is only for a Linux guest; a Windows guest takes uso, lso, rsc, checksum and mtu")]
      : []),
  },
  needsKernel("initrd"),
  needsKernel("cmdline"),
  {
    reads: ["guest.tpm", "guest.firmware"],
    check: (s) => (s.guest.tpm && s.guest.firmware !== "uefi" ? [problem("guest.tpm", s.guest.tpm, "needs guest.firmware uefi (Windows 11 wants both)")] : []),
  },
  {
    reads: ["host", "hostSshPrivateKey"],
    check: (s) => (s.host.connection === "ssh" && s.hostSshPrivateKey === undefined
      ? [problem("hostSshPrivateKey", undefined, "is required when host.connection is ssh: pulumi config set --secret hostSshPrivateKey < KEYFILE")]
      : []),
  },
  {
    reads: ["guest.access", "guestSshPrivateKey"],
    check: (s) => (s.guest.access === "ssh" && s.guestSshPrivateKey === undefined
      ? [problem("guestSshPrivateKey", undefined, "is required when guest.access is ssh: pulumi config set --secret guestSshPrivateKey < KEYFILE")]
      : []),
  },
  {
    reads: ["guest.access", "guest.ssh", "network.guestAddress", "network.mode", "network.cidr"],
    check: (s, network) => (s.guest.access === "ssh" && (s.guest.ssh?.address ?? network.guestAddress) === undefined
      ? [problem("guest.ssh.address", undefined, "is required when guest.access is ssh and network.guestAddress is unset (adopt mode leaves the guest's address to DHCP)")]
      : []),
  },
  senderForOs("gso", "linux", "is for a Linux guest only (iperf3 >= 3.21 --gsro uses Linux UDP_SEGMENT); a Windows guest takes plain or uso"),
  senderFitsFrame("gso", "linux", "iperf3 --gsro with a larger -l sends nothing at all"),
  senderForOs("uso", "windows", "is for a Windows guest only (UDP_SEND_MSG_SIZE); a Linux guest takes plain or gso"),
  senderFitsFrame("uso", "windows", "UDP_SEND_MSG_SIZE is the size of each datagram on the wire, and a larger one is IP-fragmented, not segmented"),
];

/** Whether one of two dotted paths is the other or inside it. */
function overlaps(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`);
}

/** The problems of every rule that reads no refused setting (`invalid`: dotted paths). */
export function crossProblems(s: LabSettings, network: NetworkConfig, invalid: readonly string[]): ConfigProblem[] {
  return CROSS_RULES
    .filter((r) => !r.reads.some((input) => invalid.some((bad) => overlaps(input, bad))))
    .flatMap((r) => r.check(s, network));
}
