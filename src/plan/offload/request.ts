import { ConfigError, type ConfigProblem } from "../../config/errors";
import { ETHERNET_HEADER_BYTES, type ChecksumMode, type EthtoolFeature } from "../../config/features";
import type { LabConfig, OffloadPair, OffloadProfile } from "../../config/model";

// What an offload profile asks of each driver, worked out once. The guest scripts set these
// values and the comparators in src/results/ check the read-back against the same values.

/** One NetKVM advanced property as `Set-NetAdapterAdvancedProperty` takes it. */
export interface NetkvmSetting {
  readonly keyword: string;
  readonly value: string;
}

export interface NetkvmRequest {
  readonly settings: readonly NetkvmSetting[];
  /** `*JumboPacket` (frame size, MTU + 14); drivers before virtio-win 0.1.190 only know `MTU`. */
  readonly mtu: number;
  readonly jumboPacket: number;
}

const CHECKSUM_VALUE: Record<ChecksumMode, string> = { off: "0", tx: "1", rx: "2", rxtx: "3" };

const CHECKSUM_KEYWORD = {
  ipv4: "*IPChecksumOffloadIPv4",
  tcpv4: "*TCPChecksumOffloadIPv4",
  tcpv6: "*TCPChecksumOffloadIPv6",
  udpv4: "*UDPChecksumOffloadIPv4",
  udpv6: "*UDPChecksumOffloadIPv6",
} as const;

function pairSettings(pair: OffloadPair, prefix: string): NetkvmSetting[] {
  const out: NetkvmSetting[] = [];
  if (pair.ipv4 !== undefined) out.push({ keyword: `${prefix}IPv4`, value: pair.ipv4 ? "1" : "0" });
  if (pair.ipv6 !== undefined) out.push({ keyword: `${prefix}IPv6`, value: pair.ipv6 ? "1" : "0" });
  return out;
}

export function netkvmRequest(offloads: OffloadProfile): NetkvmRequest {
  const checksum = (Object.keys(CHECKSUM_KEYWORD) as (keyof typeof CHECKSUM_KEYWORD)[])
    .filter((k) => offloads.checksum[k] !== undefined)
    .map((k) => ({ keyword: CHECKSUM_KEYWORD[k], value: CHECKSUM_VALUE[offloads.checksum[k]!] }));
  return {
    // Checksums first: the driver may refuse segmentation offloads without them.
    settings: [
      ...checksum,
      ...pairSettings(offloads.lso, "*LsoV2"),
      ...pairSettings(offloads.uso, "*Uso"),
      ...pairSettings(offloads.rsc, "*Rsc"),
    ],
    mtu: offloads.mtu,
    jumboPacket: offloads.mtu + ETHERNET_HEADER_BYTES,
  };
}

export type OnOff = "on" | "off";

export interface LinuxRequest {
  /** ethtool feature → wanted state, in the order they are set (checksums first). */
  readonly features: readonly (readonly [EthtoolFeature, OnOff])[];
  readonly mtu: number;
}

const onOff = (b: boolean): OnOff => (b ? "on" : "off");

/**
 * virtio_net has one feature where NetKVM has an IPv4 and an IPv6 keyword (USO, RSC) and one
 * tx and one rx checksum switch for all protocols; a profile that asks two different things
 * of one Linux feature cannot be applied, so it is refused with the keys involved.
 */
export function linuxRequest(cfg: LabConfig): LinuxRequest {
  const o = cfg.offloads;
  const problems: ConfigProblem[] = [];
  const wanted = new Map<EthtoolFeature, { value: OnOff; from: string }>();
  const want = (feature: EthtoolFeature, value: OnOff, from: string) => {
    const prev = wanted.get(feature);
    if (prev !== undefined && prev.value !== value) {
      problems.push({
        key: `offload-lab:guestOffloads.${from}`,
        value,
        allowed: `must agree with guestOffloads.${prev.from} (${prev.value}): a Linux guest has the single ethtool feature ${feature} for both`,
      });
      return;
    }
    if (prev === undefined) wanted.set(feature, { value, from });
  };

  if (o.checksum.ipv4 !== undefined) {
    problems.push({
      key: "offload-lab:guestOffloads.checksum.ipv4",
      value: o.checksum.ipv4,
      allowed: "is only for a Windows guest: Linux has no separate IPv4 header checksum offload",
    });
  }
  for (const k of ["tcpv4", "tcpv6", "udpv4", "udpv6"] as const) {
    const mode = o.checksum[k];
    if (mode === undefined) continue;
    want("tx-checksum-ip-generic", onOff(mode === "tx" || mode === "rxtx"), `checksum.${k}`);
    want("rx-checksum", onOff(mode === "rx" || mode === "rxtx"), `checksum.${k}`);
  }
  if (o.lso.ipv4 !== undefined) want("tx-tcp-segmentation", onOff(o.lso.ipv4), "lso.ipv4");
  if (o.lso.ipv6 !== undefined) want("tx-tcp6-segmentation", onOff(o.lso.ipv6), "lso.ipv6");
  // virtio_net offers one UDP GSO feature for both address families.
  if (o.uso.ipv4 !== undefined) want("tx-udp-segmentation", onOff(o.uso.ipv4), "uso.ipv4");
  if (o.uso.ipv6 !== undefined) want("tx-udp-segmentation", onOff(o.uso.ipv6), "uso.ipv6");
  // virtio_net exposes the host's guest-offload receive coalescing as rx-gro-hw (Linux 4.19+).
  if (o.rsc.ipv4 !== undefined) want("rx-gro-hw", onOff(o.rsc.ipv4), "rsc.ipv4");
  if (o.rsc.ipv6 !== undefined) want("rx-gro-hw", onOff(o.rsc.ipv6), "rsc.ipv6");
  for (const [feature, value] of Object.entries(o.ethtool) as [EthtoolFeature, OnOff][]) {
    want(feature, value, `ethtool.${feature}`);
  }
  if (problems.length > 0) throw new ConfigError(cfg.stack, problems);
  return { features: [...wanted].map(([f, w]) => [f, w.value] as const), mtu: o.mtu };
}

export type HostRole = "tap" | "bridge";

export interface HostDeviceRequest {
  readonly role: HostRole;
  readonly device: string;
  readonly features: readonly (readonly [EthtoolFeature, OnOff])[];
}

export function hostRequest(cfg: LabConfig): HostDeviceRequest[] {
  const devices: HostDeviceRequest[] = [
    { role: "tap", device: cfg.guest.tapName, features: Object.entries(cfg.hostOffloads.tap) as [EthtoolFeature, OnOff][] },
    { role: "bridge", device: cfg.network.bridge, features: Object.entries(cfg.hostOffloads.bridge) as [EthtoolFeature, OnOff][] },
  ];
  return devices.filter((d) => d.features.length > 0);
}

/**
 * `ethtool -k` prints a feature that a legacy flag covers alone under the legacy name
 * (ethtool's off_flag_def table); every other feature under its kernel name.
 */
const LEGACY_NAME: Partial<Record<EthtoolFeature, string>> = {
  "rx-checksum": "rx-checksumming",
  "tx-generic-segmentation": "generic-segmentation-offload",
  "rx-gro": "generic-receive-offload",
  "rx-lro": "large-receive-offload",
  "rx-vlan-hw-parse": "rx-vlan-offload",
  "tx-vlan-hw-insert": "tx-vlan-offload",
  "rx-ntuple-filter": "ntuple-filters",
  "rx-hashing": "receive-hashing",
};

export function printedFeatureName(feature: EthtoolFeature): string {
  return LEGACY_NAME[feature] ?? feature;
}
