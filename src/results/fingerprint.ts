import { createHash } from "node:crypto";

/**
 * What the environment fingerprint is made of: values other steps already parsed
 * (host facts, the domain read-back, the guest's driver read-back, iperf3 on both ends).
 * Unknown values are null; nothing here is read from a machine.
 */
export interface FingerprintInput {
  /** The host's name and address (a pool's hosts are told apart) and its CPU model. */
  readonly hostName: string | null;
  readonly hostAddress: string | null;
  readonly cpuModel: string | null;
  readonly hostKernel: string | null;
  readonly qemuVersion: string | null;
  readonly libvirtVersion: string | null;
  readonly machineType: string | null;
  readonly virtioWinVersion: string | null;
  readonly netkvmDriverVersion: string | null;
  readonly iperf3Host: string | null;
  readonly iperf3Guest: string | null;
  /** Offload read-back from the guest and the host tap: name → value as read. */
  readonly offloads: Readonly<Record<string, string | number | boolean | null>>;
}

export interface EnvironmentFingerprint extends FingerprintInput {
  /** Short hash of everything above: two results with one digest ran in one environment. */
  readonly digest: string;
}

const clean = (v: string | null): string | null => {
  const t = v?.replace(/\s+/g, " ").trim();
  return t ? t : null;
};

export function fingerprint(input: FingerprintInput): EnvironmentFingerprint {
  const offloads = Object.fromEntries(
    Object.keys(input.offloads)
      .sort()
      .map((k) => [k, input.offloads[k] ?? null]),
  );
  const normalised: FingerprintInput = {
    hostName: clean(input.hostName),
    hostAddress: clean(input.hostAddress),
    cpuModel: clean(input.cpuModel),
    hostKernel: clean(input.hostKernel),
    qemuVersion: clean(input.qemuVersion),
    libvirtVersion: clean(input.libvirtVersion),
    machineType: clean(input.machineType),
    virtioWinVersion: clean(input.virtioWinVersion),
    netkvmDriverVersion: clean(input.netkvmDriverVersion),
    iperf3Host: clean(input.iperf3Host),
    iperf3Guest: clean(input.iperf3Guest),
    offloads,
  };
  const digest = createHash("sha256").update(JSON.stringify(normalised)).digest("hex").slice(0, 16);
  return { ...normalised, digest };
}
