import { z } from "zod";
import type { LabConfig } from "../../config/model";
import type { HostIdentity } from "../../results/factors";
import { parseStepJson } from "../script/stepJson";

const schema = z.object({
  kernel: z.string(),
  libvirt: z.string(),
  libvirtClient: z.string(),
  qemu: z.string(),
  hypervisor: z.string(),
  /** The QEMU binary libvirt starts for the stack's domain type. */
  emulator: z.string(),
  /** This QEMU's virtio-net has the USO properties (QEMU >= 8.2). */
  qemuHostUso: z.boolean(),
  /** `uname -n` of the KVM host. */
  hostname: z.string(),
  /** The first CPU's model name, null where /proc/cpuinfo has none. */
  cpuModel: z.string().nullable(),
  /** What stands between the guest and the lab's ports on the host (host-firewall/firewall-lib.sh). */
  firewall: z.object({
    firewalld: z.boolean(),
    /** firewalld's zone of the bridge (libvirt's zone when the bridge is still to come); null without firewalld. */
    zone: z.string().nullable(),
    /** The lab's ports (`12345/tcp`) that zone rejects: host-firewall opens them unless host.firewall is leave. */
    closed: z.array(z.string()),
    /** Without firewalld: nftables input chains that drop or reject (`inet filter input`), not matched against the ports. */
    nftRejecting: z.array(z.string()),
  }),
});

/** What the host-readiness step reports: the versions every result of this host depends on. */
export type HostReadiness = z.output<typeof schema>;

export function parseHostReadiness(stdout: string): HostReadiness {
  return parseStepJson("host-readiness", schema, stdout);
}

/**
 * Which host the results came from: its pool name (or its own hostname), the address the lab
 * reached it at, and what a result depends on of it. Every cell of one run is from this host.
 */
export function hostIdentity(cfg: LabConfig, r: HostReadiness): HostIdentity {
  return {
    name: cfg.hostName ?? r.hostname,
    address: cfg.host.connection === "ssh" ? cfg.host.address : null,
    kernel: r.kernel,
    qemu: r.qemu,
    libvirt: r.libvirt,
    cpuModel: r.cpuModel,
  };
}
