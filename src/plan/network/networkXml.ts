import { create } from "xmlbuilder2";
import type { LabConfig } from "../../config/model";
import { stableUuid } from "../libvirt-ids";

/**
 * The dedicated lab network: isolated (no <forward>), so guest traffic never leaves the
 * bridge; the guest's MAC gets a fixed address from DHCP.
 */
export function dedicatedNetworkXml(cfg: LabConfig): string {
  const n = cfg.network;
  const doc = create().ele("network");
  doc.ele("name").txt(n.name);
  doc.ele("uuid").txt(stableUuid("network", cfg.stack, n.name));
  doc.ele("bridge", { name: n.bridge, stp: "on", delay: "0" });
  doc.ele("mtu", { size: String(n.mtu) });
  const dhcp = doc.ele("ip", { address: n.hostAddress, netmask: n.netmask }).ele("dhcp");
  dhcp.ele("range", { start: n.dhcpStart, end: n.dhcpEnd });
  if (n.guestAddress !== undefined) dhcp.ele("host", { mac: cfg.guest.mac, ip: n.guestAddress });
  return doc.end({ prettyPrint: true, headless: true }) + "\n";
}
