import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { LabConfig } from "../../src/config/model";
import { listStacks, loadStack } from "../../src/config/stackFile";
import { validateLab } from "../../src/config/validate";
import { hostReadinessStep } from "../../src/plan/hostReadiness";
import { dedicatedNetworkXml, domainXml, libvirtSteps } from "../../src/plan/libvirt";
import { bash, hostScript } from "../../src/plan/libvirt/hostScript";
import { expectGolden } from "../support/golden";

const projectDir = path.join(__dirname, "..", "..");
const stacks = listStacks(projectDir);
const hasTool = (t: string) => spawnSync("sh", ["-c", `command -v ${t}`]).status === 0;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ol-libvirt-plan-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** virt-xml-validate against libvirt's own RNG schemas; returns its complaint, or "" when valid. */
function schemaProblems(xml: string, kind: "network" | "domain"): string {
  const file = path.join(tmp, `${kind}-${Math.random().toString(16).slice(2)}.xml`);
  fs.writeFileSync(file, xml);
  const r = spawnSync("virt-xml-validate", [file, kind], { encoding: "utf8" });
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

describe("golden files for every stack", () => {
  it.each(stacks)("%s", (stack) => {
    const cfg = loadStack(projectDir, stack);
    const steps = [hostReadinessStep(cfg), ...libvirtSteps(cfg)];
    for (const step of steps) {
      expectGolden(`libvirt/${stack}/${step.name}.create.sh`, step.create);
      if (step.delete !== undefined) expectGolden(`libvirt/${stack}/${step.name}.delete.sh`, step.delete);
      for (const doc of step.documents ?? []) expectGolden(`libvirt/${stack}/${doc.file}`, doc.content);
    }
  });
});

describe("steps", () => {
  it("are named, ordered and owned as the lab expects", () => {
    const cfg = loadStack(projectDir, "linux-uso-on");
    const steps = [hostReadinessStep(cfg), ...libvirtSteps(cfg)];
    expect(steps.map((s) => [s.name, s.component, s.runsOn, s.dependsOn])).toEqual([
      ["host-readiness", "LabHost", "host", []],
      ["network", "LabNetwork", "host", ["host-readiness"]],
      ["guest-disk", "LabGuest", "host", ["host-readiness"]],
      ["guest-domain", "LabGuest", "host", ["network", "guest-disk"]],
    ]);
    for (const s of steps) expect(s.create.startsWith("set -euo pipefail\n")).toBe(true);
    for (const s of steps.slice(1)) expect(s.delete?.startsWith("set -euo pipefail\n")).toBe(true);
  });

  it("do not change when offloads, matrix, capture or iperf3 settings change", () => {
    const a = validateLab("t", linuxBase);
    const b = validateLab("t", {
      ...linuxBase,
      guestOffloads: { uso: { ipv4: true, ipv6: false }, lso: { ipv4: false }, mtu: 1500, ethtool: { "rx-gro-list": "on" } },
      hostOffloads: { tap: { "tx-udp-segmentation": "off" }, bridge: { "rx-gro": "off" } },
      matrix: { payloads: [1472], repetitions: 9, durationSeconds: 3, bitrates: ["0"], order: "shuffled" },
      capture: { enabled: false },
      iperf3: { port: 5201, binary: "/opt/iperf3" },
      benchmark: { runId: "again" },
    });
    // host-readiness checks for tcpdump and the iperf3 binary, but its triggers (which every
    // later step inherits) leave them out.
    expect(hostReadinessStep(b).triggers).toEqual(hostReadinessStep(a).triggers);
    const view = (cfg: LabConfig) => libvirtSteps(cfg).map((s) => [s.triggers, s.create, s.delete]);
    expect(view(b)).toEqual(view(a));
  });

  it("change the domain's triggers, and only the domain's, when the NIC features change", () => {
    const a = validateLab("t", linuxBase);
    const b = validateLab("t", { ...linuxBase, guest: { ...linuxBase.guest, virtioNetFeatures: { mrg_rxbuf: "off" } } });
    const triggers = (cfg: LabConfig) => libvirtSteps(cfg).map((s) => s.triggers);
    const [na, da, xa] = triggers(a);
    const [nb, db, xb] = triggers(b);
    expect([nb, db]).toEqual([na, da]);
    expect(xb).not.toEqual(xa);
  });

  it("checks jq, through which the host steps read JSON", () => {
    expect(hostReadinessStep(validateLab("t", linuxBase)).create).toMatch(/^TOOLS=\(.* jq( |\))/m);
  });

  it("checks tcpdump only when capture is on", () => {
    expect(hostReadinessStep(validateLab("t", linuxBase)).create).toContain("tcpdump");
    expect(hostReadinessStep(validateLab("t", { ...linuxBase, capture: { enabled: false } })).create).not.toContain("tcpdump");
  });

  it("are bash that parses", () => {
    for (const stack of stacks) {
      const cfg = loadStack(projectDir, stack);
      for (const s of [hostReadinessStep(cfg), ...libvirtSteps(cfg)]) {
        for (const script of [s.create, s.delete ?? ""]) execFileSync("bash", ["-n"], { input: script });
      }
    }
  });
});

describe.skipIf(!hasTool("virt-xml-validate") || !hasTool("xmllint"))("generated XML", () => {
  it.each(stacks)("of stack %s passes virt-xml-validate", (stack) => {
    const cfg = loadStack(projectDir, stack);
    expect(schemaProblems(domainXml(cfg), "domain")).toBe("");
    if (cfg.network.mode === "dedicated") expect(schemaProblems(dedicatedNetworkXml(cfg), "network")).toBe("");
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
    expect(schemaProblems(xml, "domain")).toBe("");
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

  it("escapes hostile paths and command lines, and they come back exactly", () => {
    const hostile = `/x/a'b"c<d>&e $(touch /tmp/pwn) \`id\` ;|é`;
    const cfg = validateLab("t", {
      ...linuxBase,
      guest: {
        ...linuxBase.guest, baseImage: `${hostile}/base.qcow2`, overlayDir: hostile, virtioWinIso: `${hostile}/v.iso`,
        kernel: `${hostile}/vmlinuz`, initrd: `${hostile}/initrd`, cmdline: `root=/dev/vda console=ttyS0 x="<&>'"`,
      },
    });
    const xml = domainXml(cfg);
    expect(schemaProblems(xml, "domain")).toBe("");
    expect(xpath(xml, "string(//disk[@device='disk']/source/@file)")).toBe(`${hostile}/g1-overlay.qcow2`);
    expect(xpath(xml, "string(//disk[@device='cdrom']/source/@file)")).toBe(`${hostile}/v.iso`);
    expect(xpath(xml, "string(//os/kernel)")).toBe(`${hostile}/vmlinuz`);
    expect(xpath(xml, "string(//os/initrd)")).toBe(`${hostile}/initrd`);
    expect(xpath(xml, "string(//os/cmdline)")).toBe(`root=/dev/vda console=ttyS0 x="<&>'"`);
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

  it("a hostile value bound into a script stays one literal word", () => {
    const value = `a'b"c $(echo pwned) \`echo pwned\` \\ ; & | > < * ? ~ !x é\nline2`;
    const out = execFileSync("bash", ["-c", hostScript({ VALUE: value }, bash`printf '%s' "$VALUE"`)], { encoding: "utf8" });
    expect(out).toBe(value);
  });

  it("json_str writes JSON that parses back to the same string", () => {
    const value = `a'b"c \\ \t tab\nnew é $(x)`;
    const out = execFileSync("bash", ["-c", hostScript({ VALUE: value }, bash`json_str "$VALUE"`)], { encoding: "utf8" });
    expect(JSON.parse(out)).toBe(value);
  });

  it("a document cannot end its here-document early", () => {
    expect(() => hostScript({}, "true", [{ file: "x.xml", content: "a\nOFFLOAD_LAB_DOCUMENT_END\nb" }])).toThrow(/contains the line/);
  });
});
