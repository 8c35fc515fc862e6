import { z } from "zod";
import { parseStepJson } from "../script/stepJson";

const schema = z.object({
  domain: z.string(),
  state: z.literal("running"),
  tap: z.string(),
  /** The tap's MTU read back on the host. */
  tapMtu: z.number().int(),
  /** The bridge the tap is enslaved to. */
  bridge: z.string(),
  mac: z.string(),
  /** The fixed DHCP address, or a lease seen at start; null when neither is known yet. */
  guestAddress: z.string().nullable(),
  /** virtio-net properties as QEMU reports them (qom-get): host_mtu, mac, mq and each override. */
  device: z.record(z.string(), z.union([z.boolean(), z.number(), z.string()])),
  /**
   * The machine type the guest runs, as libvirt recorded it (an alias such as q35 resolved),
   * and whether the stack named it or the host's QEMU chose it.
   */
  machineType: z.string(),
  machineTypeFrom: z.enum(["config", "host"]),
});

/** What the guest-domain step reports: the running guest and its NIC as the host and QEMU see them. */
export type DomainOutput = z.output<typeof schema>;

export function parseDomainOutput(stdout: string): DomainOutput {
  return parseStepJson("guest-domain", schema, stdout);
}
