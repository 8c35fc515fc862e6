import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { describeFailure } from "../../cli/errors";
import { ConfigError } from "../../config/errors";
import { settingsFromStackYaml } from "../../config/stackFile";
import { validateLab } from "../../config/validate";
import { expectGolden } from "../../../test/support/golden";
import { boundValue, shellcheck } from "../../../test/support/shellcheck";
import { everyStack, PROJECT } from "../../../test/support/stacks";
import type { Step } from "../step";
import { guestDiskStep } from "./step";

const hostReadiness = { name: "host-readiness" } as Step;
const linuxBase = {
  libvirt: { domainType: "qemu" },
  network: { mode: "dedicated", name: "lab", bridge: "labbr0", cidr: "10.77.0.0/24", mtu: 9000 },
  guest: { os: "linux", name: "g1", baseImage: "/images/base.qcow2", kernel: "/images/vmlinuz", machineType: "q35" },
};
const recorded = fs.readFileSync(path.join(PROJECT, "test", "fixtures", "stdout", "sandbox-uso-on", "guest-disk.out"), "utf8");

describe("the guest-disk step", () => {
  for (const cfg of everyStack()) {
    it(`${cfg.stack}: create and delete match their golden files and are shellcheck-clean`, () => {
      const step = guestDiskStep(cfg, { hostReadiness });
      expectGolden(`guest-disk/${cfg.stack}/create.sh`, step.create);
      expectGolden(`guest-disk/${cfg.stack}/delete.sh`, step.delete!);
      expect(shellcheck(step.create, "bash")).toEqual([]);
      expect(shellcheck(step.delete!, "bash")).toEqual([]);
    });
  }

  it("waits for host-readiness, on the host, and belongs to LabGuest", () => {
    const step = guestDiskStep(validateLab("t", linuxBase), { hostReadiness });
    expect([step.name, step.component, step.runsOn]).toEqual(["guest-disk", "LabGuest", "host"]);
    expect(step.dependsOn[0]).toBe(hostReadiness);
    expect(step.dependsOn).toHaveLength(1);
  });

  it("changes only with the base image, its format and the overlay", () => {
    const triggers = (raw: object) => guestDiskStep(validateLab("t", { ...linuxBase, ...raw }), { hostReadiness }).triggers;
    const base = triggers({});
    expect(triggers({ guestOffloads: { uso: { ipv4: true, ipv6: true } }, hostOffloads: { tap: { "rx-gro": "off" } }, iperf3: { port: 5201 } })).toEqual(base);
    expect(triggers({ guest: { ...linuxBase.guest, virtioNetFeatures: { mrg_rxbuf: "off" }, vcpus: 2 } })).toEqual(base);
    expect(triggers({ guest: { ...linuxBase.guest, overlayDir: "/elsewhere" } })).not.toEqual(base);
  });

  it("binds hostile image paths as exactly themselves", () => {
    const hostile = `/x/a'b"c<d>&e $(touch /tmp/pwn) \`id\` ;|é \\:`;
    const cfg = validateLab("t", { ...linuxBase, guest: { ...linuxBase.guest, baseImage: `${hostile}/base.qcow2`, overlayDir: hostile } });
    const step = guestDiskStep(cfg, { hostReadiness });
    expect(boundValue(step.create, "BASE")).toBe(`${hostile}/base.qcow2`);
    expect(boundValue(step.create, "OVERLAY")).toBe(`${hostile}/g1-overlay.qcow2`);
    expect(boundValue(step.delete!, "OVERLAY")).toBe(`${hostile}/g1-overlay.qcow2`);
    expect(shellcheck(step.create, "bash")).toEqual([]);
    expect(shellcheck(step.delete!, "bash")).toEqual([]);
  });

  it("reads the output recorded from a real run: the overlay's own size, not its children's", () => {
    const out = guestDiskStep(everyStack()[0]!, { hostReadiness }).parse(recorded);
    expect(out).toEqual({
      overlay: "/var/lib/libvirt/images/sandbox-lab-overlay.qcow2", base: "/var/lib/offload-lab/images/debian-guest.qcow2",
      baseFormat: "qcow2", virtualSizeBytes: 671088640, created: true,
    });
    // qemu-img 10 lists the overlay's children first: the size read is the image's own.
    expect(out.virtualSizeBytes).toBeGreaterThan(64 * 1024 * 1024);
  });

  it("names the step and the field when its stdout is not its JSON", () => {
    const step = guestDiskStep(everyStack()[0]!, { hostReadiness });
    expect(() => step.parse("")).toThrow(/step guest-disk printed no JSON document/);
    expect(() => step.parse(recorded.replace('"qcow2"', '"vmdk"'))).toThrow(/step guest-disk printed unexpected JSON \(baseFormat:/);
  });
});

describe("a base image that is the guest's own overlay", () => {
  // The stack file as `render`, `up` and the rest read it: a user's mistake, found before any step is planned.
  const stackYaml = [
    "config:",
    "  offload-lab:guest:",
    "    os: linux",
    "    name: g1",
    "    overlayDir: /var/lib/libvirt/images/",
    "    baseImage: /var/lib/libvirt/images/g1-overlay.qcow2",
    "",
  ].join("\n");

  it("is a config problem naming guest.baseImage, its value and what is allowed (exit 2, no stack trace)", () => {
    let error: unknown;
    try {
      validateLab("mistake", settingsFromStackYaml(stackYaml));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([{
      key: "offload-lab:guest.baseImage",
      value: "/var/lib/libvirt/images/g1-overlay.qcow2",
      allowed: "must not be the guest's own overlay (guest.overlayDir/<guest.name>-overlay.qcow2), which would back itself: choose another guest.overlayDir",
    }]);
    const failure = describeFailure(error, false);
    expect(failure.code).toBe(2);
    expect(failure.lines.join("\n")).not.toMatch(/unexpected error|    at /);
  });

  it("is not a problem when the overlay lives elsewhere", () => {
    expect(() => validateLab("fine", settingsFromStackYaml(stackYaml.replace("overlayDir: /var/lib/libvirt/images/", "overlayDir: /srv/overlays")))).not.toThrow();
  });
});
