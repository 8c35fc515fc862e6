import type { LabConfig } from "../config/model";
import type { Iperf3Server } from "./benchmarkServer";
import { fingerprint, type EnvironmentFingerprint } from "./fingerprint";
import type { HostReadiness } from "./hostReadiness";
import type { NetkvmInstallReadBack, NetkvmReadBack } from "./netkvm";
import type { HostReadBack, LinuxGuestReadBack } from "./offload";

export interface LabEvidence {
  readonly host: HostReadiness;
  readonly guestOffloads: LinuxGuestReadBack | NetkvmReadBack;
  readonly hostOffloads: HostReadBack;
  readonly server: Iperf3Server;
  readonly netkvmInstall?: NetkvmInstallReadBack;
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
  return fingerprint({
    hostKernel: e.host.kernel,
    qemuVersion: e.host.qemu,
    libvirtVersion: e.host.libvirt,
    machineType: cfg.guest.machineType,
    // The ISO carries no version the guest can read reliably; the installed driver does.
    virtioWinVersion: e.netkvmInstall?.driverVersion ?? null,
    netkvmDriverVersion: g.os === "windows" ? g.driverVersion : null,
    iperf3Host: e.server.version,
    iperf3Guest: e.guestIperf3,
    offloads,
  });
}
