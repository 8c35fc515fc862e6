import { createHash } from "node:crypto";
import { create } from "xmlbuilder2";
import type { XMLBuilder } from "xmlbuilder2/lib/interfaces";
import type { LabConfig } from "../../config/model";
import { stableUuid } from "../libvirt-ids";

export const QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0";
/** A user alias (`ua-` prefix) is what <qemu:override> addresses the NIC by. */
export const NIC_ALIAS = "ua-lab-nic";

/** The systemd credential systemd-tmpfiles writes to root's authorized_keys (tmpfiles.d/provision.conf). */
export const ROOT_AUTHORIZED_KEYS_CREDENTIAL = "ssh.authorized_keys.root";

/** The systemd credentials the guest gets at boot: root's SSH key when the stack gives one. */
function credentialsOf(cfg: LabConfig): Record<string, string> {
  const key = cfg.guest.ssh.authorizedKey;
  return key === undefined ? {} : { [ROOT_AUTHORIZED_KEYS_CREDENTIAL]: key };
}

/**
 * Systemd credentials as SMBIOS OEM strings (type 11), `io.systemd.credential:NAME=VALUE`: PID 1
 * of systemd >= 252 imports them at boot when it runs in a VM. The firmware hands QEMU's SMBIOS
 * tables to the guest (SeaBIOS does with direct kernel boot too), so the key is given per domain
 * and never baked into the shared image. libvirt passes a <sysinfo> only with <os><smbios
 * mode='sysinfo'/> (smbiosElement), and escapes a value's commas for QEMU's -smbios; the value
 * is escaped for XML by xmlbuilder2 after exactText.
 */
export function credentialsSysinfo(domain: XMLBuilder, credentials: Readonly<Record<string, string>>): void {
  const entries = Object.entries(credentials);
  if (entries.length === 0) return;
  const oem = domain.ele("sysinfo", { type: "smbios" }).ele("oemStrings");
  for (const [name, value] of entries) oem.ele("entry").txt(exactText(`io.systemd.credential:${name}=${value}`));
}

/**
 * Text or an attribute value that xmlbuilder2 (4.x) writes back exactly: it escapes `<`, `>`
 * and a bare `&`, but keeps `&amp;`, `&lt;`, `&gt;`, `&apos;` and `&quot;` as entity
 * references (its nonEntityAmpersandRegex), so a key comment `a&amp;b` would reach the guest
 * as `a&b`, and a path `/a&amp;b` libvirt as `/a&b`. Escaping every `&` first leaves it only
 * entity references to keep. Every free-form string of the domain goes through it; names are
 * validated to letters, digits and `_.-`.
 */
function exactText(text: string): string {
  return text.replace(/&/g, "&amp;");
}

/** What makes libvirt pass the domain's <sysinfo> to QEMU. */
export function smbiosElement(os: XMLBuilder, credentials: Readonly<Record<string, string>>): void {
  if (Object.keys(credentials).length > 0) os.ele("smbios", { mode: "sysinfo" });
}

function osElement(cfg: LabConfig, domain: XMLBuilder): void {
  const g = cfg.guest;
  const os = domain.ele("os", g.firmware === "uefi" ? { firmware: "efi" } : {});
  // Unset: the guest-domain step writes the host's choice here (xmlstarlet) before defining.
  os.ele("type", { arch: "x86_64", ...(g.machineType === undefined ? {} : { machine: g.machineType }) }).txt("hvm");
  if (g.firmware === "uefi") {
    // Windows 11 requires Secure Boot; libvirt picks an OVMF build with enrolled keys.
    const fw = os.ele("firmware");
    fw.ele("feature", { enabled: "yes", name: "secure-boot" });
    fw.ele("feature", { enabled: "yes", name: "enrolled-keys" });
  }
  if (g.kernel !== undefined) {
    os.ele("kernel").txt(exactText(g.kernel));
    if (g.initrd !== undefined) os.ele("initrd").txt(exactText(g.initrd));
    if (g.cmdline !== undefined) os.ele("cmdline").txt(exactText(g.cmdline));
  } else {
    os.ele("boot", { dev: "hd" });
  }
  smbiosElement(os, credentialsOf(cfg));
}

function featuresElement(cfg: LabConfig, domain: XMLBuilder): void {
  const features = domain.ele("features");
  features.ele("acpi");
  features.ele("apic");
  if (cfg.guest.os === "windows" && cfg.libvirt.domainType === "kvm") {
    // Hyper-V enlightenments need KVM; under TCG they would only slow Windows down.
    const hv = features.ele("hyperv", { mode: "custom" });
    hv.ele("relaxed", { state: "on" });
    hv.ele("vapic", { state: "on" });
    hv.ele("spinlocks", { state: "on", retries: "8191" });
  }
  if (cfg.guest.firmware === "uefi") features.ele("smm", { state: "on" });
}

function nicElement(cfg: LabConfig, devices: XMLBuilder): void {
  const g = cfg.guest;
  const nic = devices.ele("interface", { type: "network" });
  nic.ele("mac", { address: g.mac });
  nic.ele("source", { network: cfg.network.name });
  nic.ele("target", { dev: g.tapName });
  nic.ele("model", { type: "virtio" });
  // vhost-net needs KVM; under TCG libvirt uses QEMU's own virtio-net backend.
  const driver: Record<string, string> = cfg.libvirt.domainType === "kvm" ? { name: "vhost" } : {};
  if (g.queues > 1) driver.queues = String(g.queues);
  if (Object.keys(driver).length > 0) nic.ele("driver", driver);
  // Becomes virtio-net host_mtu: the guest driver (NetKVM too) adopts it.
  nic.ele("mtu", { size: String(cfg.network.mtu) });
  nic.ele("alias", { name: NIC_ALIAS });
}

function devicesElement(cfg: LabConfig, domain: XMLBuilder): void {
  const g = cfg.guest;
  const devices = domain.ele("devices");
  const disk = devices.ele("disk", { type: "file", device: "disk" });
  disk.ele("driver", { name: "qemu", type: "qcow2", discard: "unmap" });
  disk.ele("source", { file: exactText(g.overlayPath) });
  disk.ele("target", { dev: "vda", bus: "virtio" });
  if (g.virtioWinIso !== undefined) {
    const cd = devices.ele("disk", { type: "file", device: "cdrom" });
    cd.ele("driver", { name: "qemu", type: "raw" });
    cd.ele("source", { file: exactText(g.virtioWinIso) });
    cd.ele("target", { dev: "sda", bus: "sata" });
    cd.ele("readonly");
  }
  nicElement(cfg, devices);
  const agent = devices.ele("channel", { type: "unix" });
  agent.ele("target", { type: "virtio", name: "org.qemu.guest_agent.0" });
  if (g.os === "linux") {
    devices.ele("serial", { type: "pty" });
    devices.ele("console", { type: "pty" });
  } else {
    devices.ele("input", { type: "tablet", bus: "usb" });
    devices.ele("graphics", { type: "vnc", autoport: "yes" }).ele("listen", { type: "address", address: "127.0.0.1" });
    devices.ele("video").ele("model", { type: "vga" });
  }
  if (g.tpm) devices.ele("tpm", { model: "tpm-crb" }).ele("backend", { type: "emulator", version: "2.0" });
  devices.ele("memballoon", { model: "virtio" });
}

/** The virtio-net properties libvirt cannot express (USO among them), forced on the NIC. */
function overrideElement(cfg: LabConfig, domain: XMLBuilder): void {
  const entries = Object.entries(cfg.guest.virtioNetFeatures);
  if (entries.length === 0) return;
  const frontend = domain
    .ele(QEMU_NS, "qemu:override")
    .ele(QEMU_NS, "qemu:device", { alias: NIC_ALIAS })
    .ele(QEMU_NS, "qemu:frontend");
  for (const [name, state] of entries) {
    frontend.ele(QEMU_NS, "qemu:property", { name, type: "bool", value: state === "on" ? "true" : "false" });
  }
}

export const DEFINITION_NS = "urn:offload-lab:definition";

/**
 * The digest the domain carries in its <metadata>: libvirt reorders controllers it adds, so
 * comparing dumped XML cannot tell whether a re-run changed the definition; this can.
 */
export function definitionDigest(xmlWithoutDigest: string): string {
  return `sha256:${createHash("sha256").update(xmlWithoutDigest).digest("hex")}`;
}

/** The guest's libvirt domain: everything the lab needs and nothing an offload change touches. */
export function domainXml(cfg: LabConfig): string {
  const plain = buildDomain(cfg, undefined);
  return buildDomain(cfg, definitionDigest(plain));
}

function buildDomain(cfg: LabConfig, digest: string | undefined): string {
  const g = cfg.guest;
  const overrides = Object.keys(g.virtioNetFeatures).length > 0;
  const domain = create().ele("domain", {
    type: cfg.libvirt.domainType,
    ...(overrides ? { "xmlns:qemu": QEMU_NS } : {}),
  });
  domain.ele("name").txt(g.name);
  domain.ele("uuid").txt(stableUuid("domain", cfg.stack, g.name));
  if (digest !== undefined) {
    domain.ele("metadata").ele(DEFINITION_NS, "offloadlab:definition", { digest });
  }
  domain.ele("memory", { unit: "MiB" }).txt(String(g.memoryMiB));
  domain.ele("vcpu").txt(String(g.vcpus));
  credentialsSysinfo(domain, credentialsOf(cfg));
  osElement(cfg, domain);
  featuresElement(cfg, domain);
  if (cfg.libvirt.domainType === "kvm") domain.ele("cpu", { mode: "host-passthrough" });
  domain.ele("clock", { offset: g.os === "windows" ? "localtime" : "utc" });
  domain.ele("on_poweroff").txt("destroy");
  domain.ele("on_reboot").txt("restart");
  domain.ele("on_crash").txt("destroy");
  devicesElement(cfg, domain);
  overrideElement(cfg, domain);
  return domain.end({ prettyPrint: true, headless: true }) + "\n";
}
