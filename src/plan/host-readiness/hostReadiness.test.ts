import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { validateLab } from "../../config/validate";
import { expectGolden } from "../../../test/support/golden";
import { boundList, boundValue, shellcheck } from "../../../test/support/shellcheck";
import { everyStack, PROJECT } from "../../../test/support/stacks";
import { transportStub } from "../../../test/support/transportStub";
import { hostReadinessStep } from "./step";

const agent = transportStub("agent");
const linuxBase = {
  libvirt: { domainType: "qemu" },
  network: { mode: "dedicated", name: "lab", bridge: "labbr0", cidr: "10.77.0.0/24", mtu: 9000 },
  guest: { os: "linux", name: "g1", baseImage: "/images/base.qcow2", kernel: "/images/vmlinuz", machineType: "q35" },
};
// Outputs recorded from the steps' real runs by the USO lab's engine test (RECORD_STDOUT=1):
// libvirt 11.3 and QEMU 10.0 on the sandbox host.
const recorded = fs.readFileSync(path.join(PROJECT, "test", "fixtures", "stdout", "sandbox-uso-on", "host-readiness.out"), "utf8");

describe("the host-readiness step", () => {
  for (const cfg of everyStack()) {
    it(`${cfg.stack}: create matches its golden file and is shellcheck-clean`, () => {
      const step = hostReadinessStep(cfg, transportStub(cfg.guest.access));
      expectGolden(`host-readiness/${cfg.stack}/create.sh`, step.create);
      expect(shellcheck(step.create, "bash")).toEqual([]);
      expect(step.delete).toBeUndefined();
    });
  }

  it("runs first, on the host, and belongs to LabHost", () => {
    const step = hostReadinessStep(validateLab("t", linuxBase), agent);
    expect([step.name, step.component, step.runsOn, step.dependsOn]).toEqual(["host-readiness", "LabHost", "host", []]);
    expect(step.effect.changes).toMatch(/^nothing: /);
  });

  it("checks jq, through which the host steps read JSON", () => {
    expect(boundList(hostReadinessStep(validateLab("t", linuxBase), agent).create, "TOOLS")).toContain("jq");
  });

  it("checks tcpdump only when capture is on", () => {
    expect(boundList(hostReadinessStep(validateLab("t", linuxBase), agent).create, "TOOLS")).toContain("tcpdump");
    expect(boundList(hostReadinessStep(validateLab("t", { ...linuxBase, capture: { frames: false } }), agent).create, "TOOLS"))
      .not.toContain("tcpdump");
  });

  it("checks what the transport runs on the host, once each, with what to install", () => {
    const cfg = validateLab("t", linuxBase);
    const viaAgent = hostReadinessStep(cfg, agent).create;
    const viaSsh = hostReadinessStep(cfg, transportStub("ssh")).create;
    expect(boundList(viaAgent, "TOOLS")).toEqual(["virsh", "qemu-img", "ip", "ethtool", "jq", "xmlstarlet", "iperf3", "tcpdump"]);
    const tools = boundList(viaSsh, "TOOLS");
    expect(tools).toEqual(["virsh", "qemu-img", "ip", "ethtool", "jq", "xmlstarlet", "iperf3", "tcpdump", "ssh"]);
    expect(boundList(viaSsh, "PACKAGES")[tools.indexOf("ssh")]).toBe("openssh-client (Debian) / openssh-clients (RHEL)");
    const unknown = hostReadinessStep(cfg, { ...agent, hostTools: ["socat"] }).create;
    expect(boundList(unknown, "PACKAGES").at(-1)).toBe("the package that provides socat");
  });

  it("keeps capture, iperf3, transport and offload settings out of its triggers, which every later step inherits", () => {
    const a = validateLab("t", linuxBase);
    const b = validateLab("t", {
      ...linuxBase,
      guestOffloads: { uso: { ipv4: true, ipv6: true }, lso: { ipv4: false }, mtu: 1500 },
      hostOffloads: { tap: { "tx-udp-segmentation": "off" } },
      capture: { frames: false },
      iperf3: { port: 5201, binary: "/opt/iperf3" },
    });
    expect(hostReadinessStep(b, transportStub("ssh")).triggers).toEqual(hostReadinessStep(a, agent).triggers);
  });

  it("names what of USO the stack asks for, in the words of its settings", () => {
    const uso = (raw: object) => boundValue(hostReadinessStep(validateLab("t", { ...linuxBase, ...raw }), agent).create, "USO_WANTED");
    expect(uso({})).toBe("");
    expect(uso({ guestOffloads: { uso: { ipv4: true, ipv6: true } } })).toBe("guestOffloads.uso on");
    expect(uso({ guest: { ...linuxBase.guest, virtioNetFeatures: { host_uso: "on", guest_uso6: "off" } } }))
      .toBe("guest.virtioNetFeatures host_uso, guest_uso6");
  });

  it("binds a hostile iperf3 binary and libvirt URI as exactly themselves", () => {
    const cfg = validateLab("t", linuxBase);
    const hostile = "x$(touch /tmp/pwned)';`id`\n$URI \\:é";
    const step = hostReadinessStep({ ...cfg, iperf3: { ...cfg.iperf3, binary: hostile }, libvirt: { ...cfg.libvirt, uri: hostile } }, agent);
    expect(boundList(step.create, "TOOLS")).toContain(hostile);
    expect(boundValue(step.create, "URI")).toBe(hostile);
    expect(shellcheck(step.create, "bash")).toEqual([]);
  });

  it("reads the output recorded from a real run", () => {
    const parsed = hostReadinessStep(validateLab("t", linuxBase), agent).parse(recorded);
    expect(parsed).toEqual(JSON.parse(recorded));
    expect(parsed).toMatchObject({
      libvirt: "11.3.0", qemu: "10.0.2", hypervisor: "QEMU 10.0.2", emulator: "/usr/bin/qemu-system-x86_64", qemuHostUso: true,
      hostname: expect.any(String), cpuModel: expect.any(String),
    });
  });

  it("names the step and the field when its stdout is not its JSON", () => {
    const step = hostReadinessStep(validateLab("t", linuxBase), agent);
    expect(() => step.parse("offload-lab: the KVM host lacks: jq\n")).toThrow(/step host-readiness printed no JSON document/);
    expect(() => step.parse('{"kernel":"6.1"}')).toThrow(/step host-readiness printed unexpected JSON \(libvirt:/);
  });
});
