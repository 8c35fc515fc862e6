import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parseHostReadiness } from "../../src/results/hostReadiness";
import { parseDiskOutput } from "../../src/results/libvirtDisk";
import { parseDomainOutput } from "../../src/results/libvirtDomain";
import { parseNetworkOutput } from "../../src/results/libvirtNetwork";

// Outputs recorded from the steps' real runs by the USO lab's engine test (RECORD_STDOUT=1):
// libvirt 11.3 and QEMU 10.0 on the sandbox host, the trixie guest under TCG, MTU 1500.
const recorded = (step: string) => fs.readFileSync(path.join(__dirname, "..", "fixtures", "stdout", "sandbox-uso-on", `${step}.out`), "utf8");
const RECORDED = {
  readiness: recorded("host-readiness"),
  network: recorded("network"),
  disk: recorded("guest-disk"),
  domain: recorded("guest-domain"),
};

describe("libvirt step parsers", () => {
  it("read the recorded outputs", () => {
    expect(parseHostReadiness(RECORDED.readiness)).toMatchObject({
      libvirt: expect.stringMatching(/^11\./), qemu: expect.stringMatching(/^10\./), emulator: expect.stringMatching(/qemu-system-x86_64$/), qemuHostUso: true,
    });
    expect(parseNetworkOutput(RECORDED.network)).toEqual({ network: "offload-lab", mode: "dedicated", bridge: "olbr0", mtu: 1500 });
    expect(parseDiskOutput(RECORDED.disk)).toMatchObject({ baseFormat: "qcow2", created: true });
    // qemu-img 10 lists the overlay's children first: the size read is the image's own.
    expect(parseDiskOutput(RECORDED.disk).virtualSizeBytes).toBeGreaterThan(64 * 1024 * 1024);
    expect(parseDomainOutput(RECORDED.domain)).toMatchObject({ tap: "tap0", tapMtu: 1500, guestAddress: "10.77.0.10", device: { host_mtu: 1500, mq: false, host_uso: true } });
  });

  it("accept a domain whose address is not known yet", () => {
    const out = RECORDED.domain.replace('"10.77.0.10"', "null");
    expect(parseDomainOutput(out).guestAddress).toBeNull();
  });

  it("name the step when stdout is not JSON", () => {
    expect(() => parseNetworkOutput("offload-lab: restarting network\n")).toThrow(/step network printed no JSON document/);
    expect(() => parseDomainOutput("")).toThrow(/step guest-domain printed no JSON document/);
  });

  it("name the field that is missing or wrong", () => {
    expect(() => parseNetworkOutput('{"network":"n","mode":"adopt","bridge":"b"}')).toThrow(/step network printed unexpected JSON \(mtu:/);
    expect(() => parseDomainOutput(RECORDED.domain.replace('"tapMtu":1500', '"tapMtu":"1500"'))).toThrow(/tapMtu/);
    expect(() => parseDiskOutput(RECORDED.disk.replace('"qcow2"', '"vmdk"'))).toThrow(/baseFormat/);
    expect(() => parseHostReadiness('{"kernel":"6.1"}')).toThrow(/step host-readiness printed unexpected JSON/);
  });
});
