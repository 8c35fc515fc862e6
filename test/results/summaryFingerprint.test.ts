import { describe, expect, it } from "vitest";
import { type FingerprintInput, fingerprint } from "../../src/results/fingerprint";

const input: FingerprintInput = {
  hostName: "kvm-a",
  hostAddress: "10.0.0.5",
  cpuModel: "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz",
  hostKernel: "6.12.0-55.el10.x86_64",
  qemuVersion: "QEMU emulator version 10.0.0",
  libvirtVersion: "11.0.0",
  machineType: "pc-q35-8.2",
  virtioWinVersion: "1.9.45",
  netkvmDriverVersion: "100.101.104.27100",
  iperf3Host: "iperf 3.12 (cJSON 1.7.15)",
  iperf3Guest: "iperf 3.17.1",
  offloads: { "*UsoIPv4": "1", "tap:tx-udp-segmentation": "on" },
};

describe("fingerprint", () => {
  it("keeps every input next to a digest that depends on all of them", () => {
    const fp = fingerprint(input);
    expect(fp).toMatchObject(input);
    expect(fp.digest).toMatch(/^[0-9a-f]{16}$/);
    for (const key of Object.keys(input) as (keyof FingerprintInput)[]) {
      const changed = key === "offloads" ? { ...input, offloads: { "*UsoIPv4": "0" } } : { ...input, [key]: "other" };
      expect(fingerprint(changed).digest, key).not.toBe(fp.digest);
    }
  });

  it("does not depend on whitespace or on the order offloads were read back in", () => {
    const reordered = { ...input, hostKernel: "  6.12.0-55.el10.x86_64\n", offloads: { "tap:tx-udp-segmentation": "on", "*UsoIPv4": "1" } };
    expect(fingerprint(reordered).digest).toBe(fingerprint(input).digest);
    expect(Object.keys(fingerprint(reordered).offloads)).toEqual(["*UsoIPv4", "tap:tx-udp-segmentation"]);
  });

  it("says unknown as null, never as an empty string", () => {
    const fp = fingerprint({ ...input, virtioWinVersion: "  ", netkvmDriverVersion: null });
    expect(fp.virtioWinVersion).toBeNull();
    expect(fp.netkvmDriverVersion).toBeNull();
  });
});
