import { z } from "zod";
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
});

/** What the host-readiness step reports: the versions every result of this host depends on. */
export type HostReadiness = z.output<typeof schema>;

export function parseHostReadiness(stdout: string): HostReadiness {
  return parseStepJson("host-readiness", schema, stdout);
}
