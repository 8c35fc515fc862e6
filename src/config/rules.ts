import ipaddr from "ipaddr.js";
import type { ConfigProblem } from "./errors";
import {
  type EthtoolFeature,
  IPV4_UDP_HEADER_BYTES,
  NETKVM_MAX_USO_BYTES,
  NETKVM_MAX_USO_PAYLOAD,
  type SenderKind,
  UDP_PAYLOAD_MAX,
  type VirtioNetFeature,
  WINDOWS_MTU_MAX,
  WINDOWS_MTU_MIN,
} from "./features";
import { machineUsoVerdict } from "./machineType";
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
 * Senders are planned per payload (src/plan/benchmark/cells.ts, sendersFor): a segmenting
 * sender runs only for payloads up to MTU − 28, where each datagram fits one frame. A
 * segmenting sender with no such payload at all would plan no cell: refuse it, saying why.
 */
const senderHasPayload = (sender: "gso" | "uso", os: "linux" | "windows"): CrossRule => ({
  reads: ["matrix.senders", "matrix.payloads", "guest.os", "network.mtu", "guestOffloads.mtu"],
  check: (s, network) => {
    const index = s.matrix.senders.indexOf(sender);
    if (index < 0 || s.guest.os !== os) return [];
    const limit = (s.guestOffloads.mtu ?? network.mtu) - IPV4_UDP_HEADER_BYTES;
    const payloads = s.matrix.payloads ?? defaultPayloads(network.mtu);
    if (payloads.some((p) => p <= limit)) return [];
    return [problem(`matrix.senders.${index}`, sender,
      `needs at least one payload at most MTU − 28 = ${limit} (it runs only for those: above it each datagram would be IP-fragmented, and there is nothing to segment); payloads given: ${payloads.join(", ")}`)];
  },
});

/**
 * NetKVM offers USO up to MaxOffLoadSize PARANDIS_MAX_USO_SIZE = 536 × 64 = 34304 bytes per
 * send, with at least PARANDIS_MIN_LSO_SEGMENTS = 2 segments (NetKVM/Common/ndis56common.h in
 * virtio-win/kvm-guest-drivers-windows): a `uso` datagram above 34304 / 2 = 17152 bytes cannot
 * make a USO send at all. Only the payloads the uso sender runs for count (up to MTU − 28).
 */
const senderForOs = (sender: "gso" | "uso", os: "linux" | "windows", allowed: string): CrossRule => ({
  reads: ["matrix.senders", "guest.os"],
  check: (s) => {
    const index = s.matrix.senders.indexOf(sender);
    return index >= 0 && s.guest.os !== os ? [problem(`matrix.senders.${index}`, sender, allowed)] : [];
  },
});

const usoPayloadFitsNetkvm: CrossRule = {
  reads: ["matrix.senders", "matrix.payloads", "guest.os", "network.mtu", "guestOffloads.mtu"],
  check: (s, network) => {
    const index = s.matrix.senders.indexOf("uso");
    if (index < 0 || s.guest.os !== "windows") return [];
    const limit = (s.guestOffloads.mtu ?? network.mtu) - IPV4_UDP_HEADER_BYTES;
    const over = (s.matrix.payloads ?? defaultPayloads(network.mtu)).filter((p) => p <= limit && p > NETKVM_MAX_USO_PAYLOAD);
    if (over.length === 0) return [];
    return [problem(`matrix.senders.${index}`, "uso",
      `needs every payload it runs for at most ${NETKVM_MAX_USO_PAYLOAD} B: NetKVM's USO MaxOffLoadSize is 536 × 64 = ${NETKVM_MAX_USO_BYTES} B with at least 2 segments a send (NetKVM/Common/ndis56common.h); payloads above it: ${over.join(", ")} (list them without those, or lower the MTU)`)];
  },
};

/**
 * Features of the tap that the kernel grants only after QEMU set the matching TUN_F_* offload,
 * which QEMU does only for receive offloads the guest driver acknowledged. NetKVM never
 * acknowledges VIRTIO_NET_F_GUEST_USO4/6 (it implements HOST_USO only: USO is guest transmit)
 * nor GUEST_ECN (NetKVM/Common/ParaNdis_Common.cpp negotiates GUEST_CSUM, and GUEST_TSO4/6 for
 * RSC), so with a Windows guest the tap refuses them (Linux drivers/net/tun.c: tun_set_offload
 * and tun_net_fix_features).
 */
const GUEST_RECEIVE_TAP_FEATURES: Readonly<Partial<Record<EthtoolFeature, string>>> = {
  "tx-udp-segmentation": "needs TUN_F_USO4/6, which QEMU sets only when the guest acknowledges VIRTIO_NET_F_GUEST_USO4/6 (USO towards the guest, host to guest); NetKVM implements HOST_USO only — the Windows guest's USO is guest transmit, set by guestOffloads.uso and virtio-net host_uso",
  "tx-tcp-ecn-segmentation": "needs TUN_F_TSO_ECN, which QEMU sets only when the guest acknowledges VIRTIO_NET_F_GUEST_ECN, and NetKVM never does",
};

const tapGuestReceiveOffloads: CrossRule = {
  reads: ["guest.os", "hostOffloads"],
  check: (s) => {
    if (s.guest.os !== "windows") return [];
    return Object.entries(s.hostOffloads.tap)
      .filter(([feature, state]) => state === "on" && GUEST_RECEIVE_TAP_FEATURES[feature as EthtoolFeature] !== undefined)
      .map(([feature, state]) => problem(`hostOffloads.tap.${feature}`, state,
        `cannot be on with a Windows guest: the tap ${GUEST_RECEIVE_TAP_FEATURES[feature as EthtoolFeature]!}; remove it (or set it off)`));
  },
};

/**
 * RHEL-80313 turned USO off on RHEL machine types pc-q35-rhel9.6.0 and older; upstream QEMU
 * turns host_uso/guest_uso4/guest_uso6 off on machine types 8.1 and older (hw_compat_8_1).
 * A name that says which (pc-q35-8.1, pc-q35-rhel9.6.0) is refused here while the stack asks
 * for USO; an alias such as q35 is resolved and judged on the host (guest-domain).
 */
const machineTypeKeepsUso: CrossRule = {
  reads: ["guest.machineType", "guest.virtioNetFeatures", "guestOffloads.uso", "matrix.senders", "matrix.usoArms"],
  check: (s) => {
    const machine = s.guest.machineType;
    if (machine === undefined || !usoAskedFor({ virtioNetFeatures: s.guest.virtioNetFeatures ?? {}, uso: s.guestOffloads.uso ?? {}, senders: s.matrix.senders, arms: s.matrix.usoArms })) return [];
    const verdict = machineUsoVerdict(machine);
    return verdict.keepsUso === false ? [problem("guest.machineType", machine, `turns USO off: ${verdict.why}; the stack asks for USO, so leave guest.machineType unset (the host's newest q35 type that keeps it is chosen) or name one that keeps it`)] : [];
  },
};

/** What says whether a stack asks for USO: the device, the guest's offload, the senders. */
export interface UsoRequest {
  readonly virtioNetFeatures: Readonly<Partial<Record<VirtioNetFeature, "on" | "off">>>;
  readonly uso: { readonly ipv4?: boolean; readonly ipv6?: boolean };
  readonly senders: readonly SenderKind[];
  /** matrix.usoArms: the benchmark switches the guest's USO on for every other cell. */
  readonly arms: boolean;
}

/** Whether the stack asks for USO anywhere: a USO device property, the guest's USO, a segmenting sender, or in-lab arms. */
export function usoAskedFor(r: UsoRequest): boolean {
  const f = r.virtioNetFeatures;
  return f.host_uso === "on" || f.guest_uso4 === "on" || f.guest_uso6 === "on"
    || r.uso.ipv4 === true || r.uso.ipv6 === true
    || r.senders.some((sender) => sender !== "plain")
    || r.arms;
}

/**
 * With in-lab arms the benchmark owns the guest's USO: it switches it before every cell and
 * reads it back. A guestOffloads.uso would be set once by guest-offloads and then overridden by
 * the first cell's switch, so a stack that says both says two things at once.
 */
const armsOwnUso: CrossRule = {
  reads: ["matrix.usoArms", "guestOffloads.uso"],
  check: (s) => {
    const uso = s.guestOffloads.uso;
    if (!s.matrix.usoArms || uso === undefined || (uso.ipv4 === undefined && uso.ipv6 === undefined)) return [];
    return [problem("guestOffloads.uso", uso,
      "must be unset when matrix.usoArms is true: the benchmark owns the guest's USO then, switching it off and on before each cell and reading it back; a value here would be overridden by the first cell")];
  },
};

/**
 * A round (benchmark.round, set by `sweep --budget`) narrows the matrix: each of its rows must be
 * a row the matrix plans — one of its payloads, one of its senders planned for that payload
 * (a segmenting sender only up to MTU − 28), one of its bitrates — and listed once.
 */
const roundRowsInMatrix: CrossRule = {
  reads: ["benchmark.round", "matrix.payloads", "matrix.senders", "matrix.bitrates", "network.mtu", "guestOffloads.mtu"],
  check: (s, network) => {
    const rows = s.benchmark.round?.rows ?? [];
    const payloads = s.matrix.payloads ?? defaultPayloads(network.mtu);
    const limit = (s.guestOffloads.mtu ?? network.mtu) - IPV4_UDP_HEADER_BYTES;
    const seen = new Set<string>();
    return rows.flatMap((row, i) => {
      const key = `benchmark.round.rows.${i}`;
      const name = JSON.stringify([row.payload, row.sender, row.bitrate]);
      const out: ConfigProblem[] = [];
      if (!payloads.includes(row.payload)) out.push(problem(`${key}.payload`, row.payload, `must be one of matrix.payloads: ${payloads.join(", ")}`));
      if (!s.matrix.senders.includes(row.sender)) out.push(problem(`${key}.sender`, row.sender, `must be one of matrix.senders: ${s.matrix.senders.join(", ")}`));
      else if (row.sender !== "plain" && row.payload > limit) out.push(problem(`${key}.sender`, row.sender, `is not planned for payload ${row.payload}: a segmenting sender runs only up to MTU − 28 = ${limit}`));
      if (!s.matrix.bitrates.includes(row.bitrate)) out.push(problem(`${key}.bitrate`, row.bitrate, `must be one of matrix.bitrates: ${s.matrix.bitrates.join(", ")}`));
      if (seen.has(name)) out.push(problem(key, row, "must not repeat a row of the round (payload, sender and bitrate)"));
      seen.add(name);
      return out;
    });
  },
};

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
    reads: ["guest.os", "guest.installNetkvm"],
    check: (s) => (s.guest.os === "linux" && s.guest.installNetkvm
      ? [problem("guest.installNetkvm", true, "is only for a Windows guest: it installs NetKVM from guest.virtioWinIso with pnputil")]
      : []),
  },
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
  {
    // The credential is systemd's (>= 252) and provisions root's authorized_keys only.
    reads: ["guest.os", "guest.ssh"],
    check: (s) => {
      const key = s.guest.ssh?.authorizedKey;
      if (key === undefined) return [];
      if (s.guest.os === "windows") {
        return [problem("guest.ssh.authorizedKey", key, "is only for a Linux guest with systemd >= 252, which writes it to root's authorized_keys at boot; a Windows guest's key goes into its image (administrators_authorized_keys)")];
      }
      const user = s.guest.ssh?.user ?? "root";
      return user === "root" ? [] : [problem("guest.ssh.authorizedKey", key, `is root's key (the systemd credential ssh.authorized_keys.root), but guest.ssh.user is ${user}: log in as root, or put ${user}'s key into the guest image`)];
    },
  },
  senderForOs("gso", "linux", "is for a Linux guest only (iperf3 >= 3.21 --gsro uses Linux UDP_SEGMENT); a Windows guest takes plain or uso"),
  senderHasPayload("gso", "linux"),
  senderForOs("uso", "windows", "is for a Windows guest only (UDP_SEND_MSG_SIZE); a Linux guest takes plain or gso"),
  senderHasPayload("uso", "windows"),
  usoPayloadFitsNetkvm,
  tapGuestReceiveOffloads,
  machineTypeKeepsUso,
  armsOwnUso,
  roundRowsInMatrix,
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
