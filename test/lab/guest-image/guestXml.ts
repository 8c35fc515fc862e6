import { create } from "xmlbuilder2";
import { NIC_ALIAS, QEMU_NS } from "../../../src/plan/guest-domain/domainXml";

// The libvirt objects the image test boots: a NAT-less 10.77.0.0/24 network with MTU 9000
// whose DHCP hands the guest's MAC 10.77.0.10, and a TCG domain booting the image's kernel.
// Only this test uses them; the lab's own XML comes from src/plan.

export const GUEST_MAC = "52:54:00:77:00:0a";

export function labNetworkXml(name: string): string {
  const net = create().ele("network");
  net.ele("name").txt(name);
  net.ele("bridge", { name: "olbr0", stp: "off", delay: "0" });
  net.ele("mtu", { size: "9000" });
  const dhcp = net.ele("ip", { address: "10.77.0.1", netmask: "255.255.255.0" }).ele("dhcp");
  dhcp.ele("range", { start: "10.77.0.100", end: "10.77.0.200" });
  dhcp.ele("host", { mac: GUEST_MAC, ip: "10.77.0.10" });
  return net.end({ prettyPrint: true, headless: true });
}

export interface GuestDomain {
  name: string;
  network: string;
  overlay: string;
  kernel: string;
  initrd: string;
  cmdline: string;
  /** The serial console (ttyS0) is written here. */
  consoleLog: string;
  /** Defaults: the lab MAC (DHCP host entry for 10.77.0.10) and tap0. */
  mac?: string;
  tap?: string;
  /**
   * virtio-net host_uso forced through <qemu:override> on the NIC's `ua-` alias, the path the
   * lab's stacks use; absent: QEMU's default.
   */
  hostUso?: boolean;
}

export function guestDomainXml(d: GuestDomain): string {
  const dom = create().ele("domain", { type: "qemu", ...(d.hostUso !== undefined ? { "xmlns:qemu": QEMU_NS } : {}) });
  dom.ele("name").txt(d.name);
  dom.ele("memory", { unit: "MiB" }).txt("512");
  dom.ele("vcpu").txt("1");
  const os = dom.ele("os");
  os.ele("type", { arch: "x86_64" }).txt("hvm");
  os.ele("kernel").txt(d.kernel);
  os.ele("initrd").txt(d.initrd);
  os.ele("cmdline").txt(d.cmdline);
  dom.ele("features").ele("acpi");
  dom.ele("on_reboot").txt("destroy");
  const dev = dom.ele("devices");
  const disk = dev.ele("disk", { type: "file", device: "disk" });
  disk.ele("driver", { name: "qemu", type: "qcow2" });
  disk.ele("source", { file: d.overlay });
  disk.ele("target", { dev: "vda", bus: "virtio" });
  const nic = dev.ele("interface", { type: "network" });
  nic.ele("source", { network: d.network });
  nic.ele("mac", { address: d.mac ?? GUEST_MAC });
  nic.ele("model", { type: "virtio" });
  nic.ele("target", { dev: d.tap ?? "tap0" });
  nic.ele("mtu", { size: "9000" });
  nic.ele("alias", { name: NIC_ALIAS });
  dev.ele("channel", { type: "unix" }).ele("target", { type: "virtio", name: "org.qemu.guest_agent.0" });
  const serial = dev.ele("serial", { type: "file" });
  serial.ele("source", { path: d.consoleLog });
  serial.ele("target", { port: "0" });
  dev.ele("memballoon", { model: "none" });
  if (d.hostUso !== undefined) {
    dom
      .ele(QEMU_NS, "qemu:override")
      .ele(QEMU_NS, "qemu:device", { alias: NIC_ALIAS })
      .ele(QEMU_NS, "qemu:frontend")
      .ele(QEMU_NS, "qemu:property", { name: "host_uso", type: "bool", value: String(d.hostUso) });
  }
  return dom.end({ prettyPrint: true, headless: true });
}
