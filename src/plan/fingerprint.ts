import type { LabConfig } from "../config/model";
import { fingerprint, type EnvironmentFingerprint } from "../results/fingerprint";
import type { DomainOutput } from "./guest-domain/output";
import type { GuestOffloadsReadBack } from "./guest-offloads/output";
import type { HostReadBack } from "./host-offloads/output";
import { hostIdentity, type HostReadiness } from "./host-readiness/output";
import type { Iperf3Server } from "./iperf3-server/output";
import type { NetkvmInstallReadBack } from "./netkvm-install/output";

/** What the steps read back that the fingerprint is made of. */
export interface LabEvidence {
  readonly host: HostReadiness;
  /** The running domain: its machine type as libvirt recorded it. */
  readonly domain: DomainOutput;
  /** What netkvm-install installed; null when the stack does not install NetKVM. */
  readonly netkvmInstall: NetkvmInstallReadBack | null;
  readonly guestOffloads: GuestOffloadsReadBack;
  readonly hostOffloads: HostReadBack;
  readonly server: Iperf3Server;
  readonly guestIperf3: string | null;
}

/** The environment the cells ran in, from the steps' read-backs: what to compare before results. */
export function labFingerprint(cfg: LabConfig, e: LabEvidence): EnvironmentFingerprint {
  const offloads: Record<string, string | number | boolean | null> = {};
  const g = e.guestOffloads;
  if (g.os === "linux") {
    for (const f of g.features) offloads[`guest.${f.feature}`] = f.actual;
    offloads["guest.mtu"] = g.mtu.actual;
  } else {
    for (const p of g.properties) offloads[`guest.${p.keyword}`] = p.registryValue;
    offloads["guest.mtu"] = g.ipMtu;
  }
  for (const d of e.hostOffloads.devices) {
    for (const f of d.features) offloads[`${d.role}.${f.feature}`] = f.actual;
  }
  const host = hostIdentity(cfg, e.host);
  return fingerprint({
    hostName: host.name,
    hostAddress: host.address,
    cpuModel: host.cpuModel,
    hostKernel: e.host.kernel,
    qemuVersion: e.host.qemu,
    libvirtVersion: e.host.libvirt,
    // What the guest really runs: the host's choice when guest.machineType is unset, an alias resolved.
    machineType: e.domain.machineType,
    // Known when the lab installed NetKVM from the ISO (its volume label); else null.
    virtioWinVersion: e.netkvmInstall?.virtioWinVersion ?? null,
    netkvmDriverVersion: g.os === "windows" ? g.driverVersion : null,
    iperf3Host: e.server.version,
    iperf3Guest: e.guestIperf3,
    offloads,
  });
}
