import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { LabConfig } from "../../config/model";
import { validateLab } from "../../config/validate";
import { expectGolden } from "../../../test/support/golden";
import { boundList, boundValue, shellcheck } from "../../../test/support/shellcheck";
import { everyStack, PROJECT } from "../../../test/support/stacks";
import { hostScript } from "../script/hostScript";
import { scriptFile } from "../script/files";
import type { Step } from "../step";
import { domainXml } from "./domainXml";
import { guestDomainStep } from "./step";

const network = { name: "network" } as Step;
const guestDisk = { name: "guest-disk" } as Step;
const after = { network, guestDisk };
const hasTool = (t: string) => spawnSync("sh", ["-c", `command -v ${t}`]).status === 0;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ol-domain-plan-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** virt-xml-validate against libvirt's own RNG schemas; returns its complaint, or "" when valid. */
function schemaProblems(xml: string): string {
  const file = path.join(tmp, `domain-${Math.random().toString(16).slice(2)}.xml`);
  fs.writeFileSync(file, xml);
  const r = spawnSync("virt-xml-validate", [file, "domain"], { encoding: "utf8" });
  return r.status === 0 ? "" : `${r.stdout}${r.stderr}`;
}

function xpath(xml: string, expr: string): string {
  const file = path.join(tmp, `q-${Math.random().toString(16).slice(2)}.xml`);
  fs.writeFileSync(file, xml);
  return execFileSync("xmllint", ["--xpath", expr, file], { encoding: "utf8" }).replace(/\n$/, "");
}

const linuxBase = {
  libvirt: { domainType: "qemu" },
  network: { mode: "dedicated", name: "lab", bridge: "labbr0", cidr: "10.77.0.0/24", mtu: 9000 },
  guest: { os: "linux", name: "g1", baseImage: "/images/base.qcow2", kernel: "/images/vmlinuz", machineType: "q35" },
};

describe("the guest-domain step", () => {
  for (const cfg of everyStack()) {
    it(`${cfg.stack}: create, delete and XML match their golden files and are shellcheck-clean`, () => {
      const step = guestDomainStep(cfg, after);
      expectGolden(`guest-domain/${cfg.stack}/create.sh`, step.create);
      expectGolden(`guest-domain/${cfg.stack}/delete.sh`, step.delete!);
      for (const doc of step.documents ?? []) expectGolden(`guest-domain/${cfg.stack}/${doc.file}`, doc.content);
      expect(shellcheck(step.create, "bash")).toEqual([]);
      expect(shellcheck(step.delete!, "bash")).toEqual([]);
    });
  }

  it("waits for the network and the disk, on the host, and belongs to LabGuest", () => {
    const step = guestDomainStep(validateLab("t", linuxBase), after);
    expect([step.name, step.component, step.runsOn]).toEqual(["guest-domain", "LabGuest", "host"]);
    expect(step.dependsOn).toHaveLength(2);
    expect(step.dependsOn[0]).toBe(network);
    expect(step.dependsOn[1]).toBe(guestDisk);
  });

  it("writes guest-domain.xml where its create reads it", () => {
    const step = guestDomainStep(validateLab("t", linuxBase), after);
    expect(step.documents?.map((d) => d.file)).toEqual(["guest-domain.xml"]);
    expect(step.create).toContain(`cat >"$WORK/guest-domain.xml" <<'OFFLOAD_LAB_DOCUMENT_END'\n${step.documents![0]!.content}`);
  });

  it("reads libvirt XML with xmlstarlet, never awk, sed or grep", () => {
    for (const cfg of everyStack()) {
      const xmlLines = guestDomainStep(cfg, after).create.split("\n").filter((l) => /\.xml|dumpxml|domcapabilities/.test(l));
      expect(xmlLines.filter((l) => /\b(awk|sed|grep)\b/.test(l))).toEqual([]);
    }
  });

  it("asks QEMU for each NIC property it must have, with the value QEMU prints", () => {
    const cfg = validateLab("t", { ...linuxBase, guest: { ...linuxBase.guest, mac: "52:54:00:aa:bb:cc", queues: 2, virtioNetFeatures: { host_uso: "on", mrg_rxbuf: "off" } } });
    const create = guestDomainStep(cfg, after).create;
    expect(boundList(create, "PROPERTIES")).toEqual(["host_mtu", "mac", "mq", "host_uso", "mrg_rxbuf"]);
    expect(boundList(create, "EXPECTED")).toEqual(["9000", '"52:54:00:aa:bb:cc"', "true", "true", "false"]);
    expect(boundList(create, "FEATURES")).toEqual(["host_uso", "mrg_rxbuf"]);
    expect(boundValue(create, "MAC")).toBe("52:54:00:aa:bb:cc");
  });

  it("do not change when offloads, matrix, capture or iperf3 settings change", () => {
    const a = validateLab("t", linuxBase);
    const b = validateLab("t", {
      ...linuxBase,
      guestOffloads: { uso: { ipv4: true, ipv6: false }, lso: { ipv4: false }, mtu: 1500, ethtool: { "rx-gro-list": "on" } },
      hostOffloads: { tap: { "tx-udp-segmentation": "off" }, bridge: { "rx-gro": "off" } },
      matrix: { payloads: [1472], repetitions: 9, durationSeconds: 3, bitrates: ["0"], order: "shuffled" },
      capture: { frames: false },
      iperf3: { port: 5201, binary: "/opt/iperf3" },
      benchmark: { runId: "again" },
    });
    const view = (cfg: LabConfig) => {
      const s = guestDomainStep(cfg, after);
      return [s.triggers, s.create, s.delete];
    };
    expect(view(b)).toEqual(view(a));
  });

  it("changes its triggers when the NIC features change", () => {
    const a = validateLab("t", linuxBase);
    const b = validateLab("t", { ...linuxBase, guest: { ...linuxBase.guest, virtioNetFeatures: { mrg_rxbuf: "off" } } });
    expect(guestDomainStep(b, after).triggers).not.toEqual(guestDomainStep(a, after).triggers);
  });

  it("binds hostile names as exactly themselves, in create and delete", () => {
    const cfg = validateLab("t", linuxBase);
    const hostile = "g$(touch /tmp/pwned)';`id`\n$DOM \\:é";
    const step = guestDomainStep({ ...cfg, guest: { ...cfg.guest, name: hostile, tapName: hostile }, network: { ...cfg.network, name: hostile } }, after);
    for (const script of [step.create, step.delete!]) {
      expect(boundValue(script, "DOM")).toBe(hostile);
      expect(boundValue(script, "TAP")).toBe(hostile);
      expect(shellcheck(script, "bash")).toEqual([]);
    }
    expect(boundValue(step.create, "NET")).toBe(hostile);
  });

  it("reads the output recorded from a real run", () => {
    const cfg = everyStack().find((c) => c.stack === "sandbox-uso-on")!;
    const recorded = fs.readFileSync(path.join(PROJECT, "test", "fixtures", "stdout", "sandbox-uso-on", "guest-domain.out"), "utf8");
    const step = guestDomainStep(cfg, after);
    // The MAC is derived from the engine's stack name, which names the sandbox host it ran on.
    const mac = (JSON.parse(recorded) as { mac: string }).mac;
    expect(mac).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
    expect(step.parse(recorded)).toEqual({
      domain: "sandbox-lab", state: "running", tap: "tap0", tapMtu: 1500, bridge: "olbr0", mac, guestAddress: "10.77.0.10",
      device: { host_mtu: 1500, mac, mq: false, host_uso: true },
      // The stack names q35; libvirt resolved it to this QEMU's newest q35 type.
      machineType: "pc-q35-10.0", machineTypeFrom: "config",
    });
    // A domain whose address is not known yet.
    expect(step.parse(recorded.replace('"10.77.0.10"', "null")).guestAddress).toBeNull();
    expect(() => step.parse(recorded.replace('"tapMtu":1500', '"tapMtu":"1500"'))).toThrow(/step guest-domain printed unexpected JSON \(tapMtu:/);
    expect(() => step.parse("")).toThrow(/step guest-domain printed no JSON document/);
  });
});

describe.skipIf(!hasTool("virt-xml-validate") || !hasTool("xmllint"))("generated XML", () => {
  it.each(everyStack().map((c) => c.stack))("of stack %s passes virt-xml-validate", (stack) => {
    expect(schemaProblems(domainXml(everyStack().find((c) => c.stack === stack)!))).toBe("");
  });

  it("of a Windows 11 guest (UEFI, TPM, USO overrides, KVM) passes virt-xml-validate", () => {
    const cfg = validateLab("t", {
      network: { mode: "dedicated", mtu: 9000 },
      guest: {
        os: "windows", name: "w11", baseImage: "/images/w.qcow2", virtioWinIso: "/iso/virtio-win.iso",
        firmware: "uefi", tpm: true, queues: 4, virtioNetFeatures: { host_uso: "on", guest_uso4: "on", guest_uso6: "off" },
      },
    });
    const xml = domainXml(cfg);
    expect(schemaProblems(xml)).toBe("");
    expect(xpath(xml, "string(//*[local-name()='device']/@alias)")).toBe("ua-lab-nic");
    expect(xpath(xml, "string(//interface/alias/@name)")).toBe("ua-lab-nic");
    expect(xpath(xml, "string(//interface/driver/@queues)")).toBe("4");
    expect(xpath(xml, "string(//interface/driver/@name)")).toBe("vhost");
    expect(xpath(xml, "string(//interface/mtu/@size)")).toBe("9000");
    expect(xpath(xml, "string(//interface/target/@dev)")).toBe("tap0");
    expect(xpath(xml, "string(//disk[@device='cdrom']/target/@bus)")).toBe("sata");
    expect(xpath(xml, "count(//*[local-name()='property'])")).toBe("3");
    expect(xpath(xml, "string(//*[local-name()='property'][@name='guest_uso6']/@value)")).toBe("false");
  });

  it("carries no <qemu:override> when no NIC feature is configured", () => {
    const xml = domainXml(validateLab("t", linuxBase));
    expect(xml).not.toContain("qemu:");
    expect(xpath(xml, "string(//interface/alias/@name)")).toBe("ua-lab-nic");
  });

  it("carries the digest of its definition in <metadata>, where create reads it", () => {
    const xml = domainXml(validateLab("t", linuxBase));
    expect(xpath(xml, "string(/domain/metadata/*[local-name()='definition' and namespace-uri()='urn:offload-lab:definition']/@digest)"))
      .toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  // An input like a path, made once by `ssh-keygen -t ed25519 -C qe@lab-host`; its comment is
  // the user's and may hold anything but control characters.
  const ROOT_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN3lpradHIH2+MP1bTNy6yA3ywW5rtj1dTozMOlj712h qe@lab-host";
  const withKey = (authorizedKey: string) => validateLab("t", { ...linuxBase, guest: { ...linuxBase.guest, ssh: { authorizedKey } } });

  it("hands root's key to the guest as a systemd credential in an SMBIOS OEM string, and passes virt-xml-validate", () => {
    const xml = domainXml(withKey(ROOT_KEY));
    expectGolden("guest-domain/with-authorized-key/guest-domain.xml", xml);
    expect(schemaProblems(xml)).toBe("");
    expect(xpath(xml, "string(/domain/sysinfo[@type='smbios']/oemStrings/entry)")).toBe(`io.systemd.credential:ssh.authorized_keys.root=${ROOT_KEY}`);
    expect(xpath(xml, "count(/domain/sysinfo/oemStrings/entry)")).toBe("1");
    // Without it libvirt never passes <sysinfo> to QEMU.
    expect(xpath(xml, "string(/domain/os/smbios/@mode)")).toBe("sysinfo");
  });

  it("carries no <sysinfo> and no <smbios> when the stack gives no key", () => {
    const xml = domainXml(validateLab("t", linuxBase));
    expect(xpath(xml, "count(//sysinfo | //smbios)")).toBe("0");
  });

  it("escapes a key comment full of XML specials, and it comes back exactly", () => {
    const key = `${ROOT_KEY.split(" ").slice(0, 2).join(" ")} a'b"c<d>&e ]]> <!-- x --> &amp; $(id), é`;
    const xml = domainXml(withKey(key));
    expect(schemaProblems(xml)).toBe("");
    expect(xml).not.toContain("<d>");
    expect(xpath(xml, "string(/domain/sysinfo/oemStrings/entry)")).toBe(`io.systemd.credential:ssh.authorized_keys.root=${key}`);
    expect(xpath(xml, "count(/domain/sysinfo/oemStrings/entry)")).toBe("1");
  });

  it("escapes hostile paths and command lines, and they come back exactly", () => {
    // `&amp;` and `&lt;` too: xmlbuilder2 keeps entity references it is given as they are.
    const hostile = `/x/a'b"c<d>&e&amp;f&lt;g $(touch /tmp/pwn) \`id\` ;|é`;
    const cfg = validateLab("t", {
      ...linuxBase,
      guest: {
        ...linuxBase.guest, baseImage: `${hostile}/base.qcow2`, overlayDir: hostile, virtioWinIso: `${hostile}/v.iso`,
        kernel: `${hostile}/vmlinuz`, initrd: `${hostile}/initrd`, cmdline: `root=/dev/vda console=ttyS0 x="<&>'&amp;"`,
      },
    });
    const xml = domainXml(cfg);
    expect(schemaProblems(xml)).toBe("");
    expect(xpath(xml, "string(//disk[@device='disk']/source/@file)")).toBe(`${hostile}/g1-overlay.qcow2`);
    expect(xpath(xml, "string(//disk[@device='cdrom']/source/@file)")).toBe(`${hostile}/v.iso`);
    expect(xpath(xml, "string(//os/kernel)")).toBe(`${hostile}/vmlinuz`);
    expect(xpath(xml, "string(//os/initrd)")).toBe(`${hostile}/initrd`);
    expect(xpath(xml, "string(//os/cmdline)")).toBe(`root=/dev/vda console=ttyS0 x="<&>'&amp;"`);
  });
});

describe("hostile names", () => {
  const hostileNames = ["a'b", "a$(id)", "a`id`", "a\nb", "a<b>", "a b", "-rf", "a/b", "x".repeat(65)];
  it.each(hostileNames)("%j is refused as a network, guest or bridge name", (name) => {
    expect(() => validateLab("t", { ...linuxBase, network: { ...linuxBase.network, name } })).toThrow(/network\.name/);
    expect(() => validateLab("t", { ...linuxBase, guest: { ...linuxBase.guest, name } })).toThrow(/guest\.name/);
    expect(() => validateLab("t", { ...linuxBase, network: { ...linuxBase.network, bridge: name } })).toThrow(/network\.bridge/);
    expect(() => validateLab("t", { ...linuxBase, guest: { ...linuxBase.guest, tapName: name } })).toThrow(/guest\.tapName/);
  });

  it("a path with control characters is refused", () => {
    expect(() => validateLab("t", { ...linuxBase, guest: { ...linuxBase.guest, baseImage: "/a\nb" } })).toThrow(/guest\.baseImage/);
  });

  it("a document cannot end its here-document early", () => {
    const file = scriptFile(__dirname, "delete.sh");
    expect(() => hostScript({ step: "t", file, values: {}, documents: [{ file: "x.xml", content: "a\nOFFLOAD_LAB_DOCUMENT_END\nb" }] }))
      .toThrow(/contains the line/);
  });
});
