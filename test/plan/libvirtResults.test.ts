import { describe, expect, it } from "vitest";
import { parseHostReadiness } from "../../src/results/hostReadiness";
import { parseDiskOutput } from "../../src/results/libvirtDisk";
import { parseDomainOutput } from "../../src/results/libvirtDomain";
import { parseNetworkOutput } from "../../src/results/libvirtNetwork";

// Outputs recorded from the steps' real runs: libvirtd 9.0 in a network namespace, a Debian
// guest booted by direct kernel boot under TCG, network at MTU 9000.
const RECORDED = {
  readiness: '{"kernel":"6.18.44-fc-v657","libvirt":"9.0.0","libvirtClient":"9.0.0","qemu":"7.2.22","hypervisor":"QEMU 7.2.22"}\n',
  network: '{"network":"offload-lab","mode":"dedicated","bridge":"olbr0","mtu":9000}\n',
  disk: '{"overlay":"/tmp/ol-boot-n778j7/linux-uso-lab-overlay.qcow2","base":"/tmp/ol-boot-n778j7/debian-guest.qcow2","baseFormat":"qcow2","virtualSizeBytes":603979776,"created":true}\n',
  domain: '{"domain":"linux-uso-lab","state":"running","tap":"tap0","tapMtu":9000,"bridge":"olbr0","mac":"52:54:00:d1:26:4f","guestAddress":"10.77.0.10","device":{"host_mtu":9000,"mac":"52:54:00:d1:26:4f","mq":false}}\n',
};

describe("libvirt step parsers", () => {
  it("read the recorded outputs", () => {
    expect(parseHostReadiness(RECORDED.readiness)).toMatchObject({ libvirt: "9.0.0", qemu: "7.2.22" });
    expect(parseNetworkOutput(RECORDED.network)).toEqual({ network: "offload-lab", mode: "dedicated", bridge: "olbr0", mtu: 9000 });
    expect(parseDiskOutput(RECORDED.disk)).toMatchObject({ baseFormat: "qcow2", virtualSizeBytes: 603979776, created: true });
    expect(parseDomainOutput(RECORDED.domain)).toMatchObject({ tap: "tap0", tapMtu: 9000, guestAddress: "10.77.0.10", device: { host_mtu: 9000, mq: false } });
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
    expect(() => parseDomainOutput(RECORDED.domain.replace('"tapMtu":9000', '"tapMtu":"9000"'))).toThrow(/tapMtu/);
    expect(() => parseDiskOutput(RECORDED.disk.replace('"qcow2"', '"vmdk"'))).toThrow(/baseFormat/);
    expect(() => parseHostReadiness('{"kernel":"6.1"}')).toThrow(/step host-readiness printed unexpected JSON/);
  });
});
