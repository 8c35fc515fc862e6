import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { VirtioNetFeature } from "../../src/config/features";
import { listStacks, settingsFromStackYaml, stackFilePath } from "../../src/config/stackFile";
import { validateLab, type RawSettings } from "../../src/config/validate";
import { domainXml, NIC_ALIAS } from "../../src/plan/guest-domain/domainXml";
import { Libvirtd } from "../../src/sandbox/libvirtd";
import { canUseNamespaces, Namespace } from "../../src/sandbox/netns";

// Every Windows stack's domain XML, as the plan writes it, defined and started on this host's
// libvirt 11 / QEMU 10 under TCG, on a libvirtd in a namespace: a blank overlay for the disk, a
// stand-in for the virtio-win ISO, OVMF (secure boot) and swtpm where the stack asks for UEFI
// and a TPM. QEMU's own NIC properties (qom-get) must be what the stack's <qemu:override> says:
// the path the Windows stacks rely on for USO. The stacks all ask for QEMU's defaults (on), so
// variants that turn them off prove the override is what sets them.

const PROJECT = path.join(__dirname, "..", "..");
const USO_PROPERTIES = ["host_uso", "guest_uso4", "guest_uso6"] as const satisfies readonly VirtioNetFeature[];
const env = canUseNamespaces();
const missing = ["libvirtd", "virsh", "qemu-system-x86_64", "qemu-img", "swtpm"].filter(
  (t) => !["/usr/sbin", "/usr/bin"].some((d) => fs.existsSync(path.join(d, t))),
);
const ovmf = fs.existsSync("/usr/share/OVMF/OVMF_CODE_4M.secboot.fd");
const skipReason = !env.ok ? env.reason : missing.length ? `missing ${missing.join(", ")}` : !ovmf ? "no OVMF (Debian package ovmf)" : "";
if (skipReason) console.error(`windows-domains test skipped: ${skipReason}`);

const windowsStacks = listStacks(PROJECT).filter(
  (s) => (settingsFromStackYaml(fs.readFileSync(stackFilePath(PROJECT, s), "utf8")).guest as { os?: string } | undefined)?.os === "windows",
);

interface Case {
  readonly name: string;
  readonly stack: string;
  /** Replaces the stack's guest.virtioNetFeatures; absent: the stack's own. */
  readonly features?: Partial<Record<VirtioNetFeature, "on" | "off">>;
  /** QEMU's value of each property the features leave unset. */
  readonly defaults?: Partial<Record<(typeof USO_PROPERTIES)[number], boolean>>;
}

const CASES: Case[] = [
  ...windowsStacks.map((stack) => ({ name: stack, stack })),
  // USO the device does not offer, through the same override.
  ...(windowsStacks.length ? [{ name: `${windowsStacks[0]} with USO off`, stack: windowsStacks[0]!, features: { host_uso: "off", guest_uso4: "off", guest_uso6: "off" } } as Case] : []),
  // Only what is overridden changes: guest_uso6 keeps QEMU's default.
  ...(windowsStacks.length ? [{ name: `${windowsStacks[0]} with host_uso and guest_uso4 off only`, stack: windowsStacks[0]!, features: { host_uso: "off", guest_uso4: "off" }, defaults: { guest_uso6: true } } as Case] : []),
];

describe.skipIf(skipReason !== "" || windowsStacks.length === 0)("Windows stacks' domains on libvirt 11 / QEMU 10 (TCG, in a namespace)", () => {
  let ns: Namespace;
  let lv: Libvirtd;
  let dir: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ol-windows-domains-"));
    fs.writeFileSync(path.join(dir, "virtio-win.iso"), Buffer.alloc(64 * 1024)); // QEMU only opens it
    ns = new Namespace("olwd");
    lv = Libvirtd.start(ns);
    // The stacks adopt a network named "default"; here it is one of this namespace's daemon.
    const net = path.join(dir, "default.xml");
    fs.writeFileSync(net, "<network><name>default</name><bridge name='olwdbr0' stp='off'/><mtu size='9000'/></network>");
    lv.virsh(["net-define", net]);
    lv.virsh(["net-start", "default"]);
  });

  afterAll(() => {
    lv?.stop();
    ns?.remove();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The machine type guest-domain picks here: machine-lib.sh over this libvirt's `virsh capabilities`. */
  let chosen: string | undefined;
  const hostMachine = (): string => {
    if (chosen !== undefined) return chosen;
    const caps = path.join(dir, "capabilities.xml");
    fs.writeFileSync(caps, lv.virsh(["capabilities"]));
    const lib = fs.readFileSync(path.join(PROJECT, "src", "plan", "guest-domain", "machine-lib.sh"), "utf8");
    chosen = execFileSync("bash", ["-c", `set -euo pipefail\n${lib}\nol_machines_from_capabilities "$1" | ol_newest_uso_q35`, "bash", caps], { encoding: "utf8" }).trim();
    // QEMU 10.0.2 from bookworm-backports, as libvirt lists it.
    expect(chosen).toBe("pc-q35-10.0");
    return chosen;
  };

  const qomGet = (domain: string, property: string): unknown =>
    JSON.parse(lv.virsh(["qemu-monitor-command", domain, JSON.stringify({ execute: "qom-get", arguments: { path: `/machine/peripheral/${NIC_ALIAS}`, property } })])).return;

  for (const c of CASES) {
    it(`${c.name}: starts, and QEMU's NIC has the USO properties the stack asked for`, () => {
      const raw = settingsFromStackYaml(fs.readFileSync(stackFilePath(PROJECT, c.stack), "utf8"));
      const guest = raw.guest as Record<string, unknown>;
      const settings: RawSettings = {
        ...raw,
        libvirt: { ...(raw.libvirt as object), domainType: "qemu" },
        guest: {
          ...guest,
          baseImage: path.join(dir, "base.qcow2"),
          overlayDir: path.join(dir, "overlays"),
          virtioWinIso: path.join(dir, "virtio-win.iso"),
          ...(c.features ? { virtioNetFeatures: c.features } : {}),
        },
      };
      const stackCfg = validateLab(c.stack, settings);
      expect(stackCfg.guest.os).toBe("windows");
      // The stacks leave the machine type to the host: what the guest-domain step would write in.
      expect(stackCfg.guest.machineType).toBeUndefined();
      const cfg = { ...stackCfg, guest: { ...stackCfg.guest, machineType: hostMachine() } };
      fs.mkdirSync(path.dirname(cfg.guest.overlayPath), { recursive: true });
      fs.rmSync(cfg.guest.overlayPath, { force: true });
      execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", cfg.guest.overlayPath, "1G"]);
      const xmlFile = path.join(dir, `${c.stack}.xml`);
      fs.writeFileSync(xmlFile, domainXml(cfg));
      const domain = cfg.guest.name;
      lv.virsh(["define", xmlFile]);
      try {
        lv.virsh(["start", domain]);
        expect(lv.virsh(["domstate", domain]).trim()).toBe("running");
        const live = lv.virsh(["dumpxml", domain]);
        if (cfg.guest.firmware === "uefi") {
          // libvirt picked OVMF with secure boot for firmware='efi' and its features.
          expect(live).toMatch(/<loader [^>]*secure=['"]yes['"][^>]*>[^<]*OVMF[^<]*<\/loader>/);
        }
        if (cfg.guest.tpm) {
          expect(live).toMatch(/<tpm model=['"]tpm-crb['"]>\s*<backend type=['"]emulator['"] version=['"]2\.0['"]/);
          expect(lv.exec(["bash", "-c", "pgrep --ns $$ --nslist net -x swtpm >/dev/null && echo running || echo absent"]).trim()).toBe("running");
        }
        for (const p of USO_PROPERTIES) {
          const asked = cfg.guest.virtioNetFeatures[p];
          const want = asked !== undefined ? asked === "on" : c.defaults?.[p];
          if (want === undefined) throw new Error(`case ${c.name}: ${p} is neither set nor has a known default`);
          expect(qomGet(domain, p), `${p} of ${domain}`).toBe(want);
          // The same through HMP, as a person at the monitor would read it.
          expect(lv.virsh(["qemu-monitor-command", domain, "--hmp", `qom-get /machine/peripheral/${NIC_ALIAS} ${p}`]).trim()).toBe(String(want));
        }
      } finally {
        try { lv.virsh(["destroy", domain]); } catch { /* not running */ }
        lv.virsh(["undefine", domain, "--nvram", "--tpm"]);
      }
    }, 180_000);
  }
});
