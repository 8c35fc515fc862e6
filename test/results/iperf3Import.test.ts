import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { importIperf3 } from "../../src/results/importIperf3";

const FIXTURES = path.join(__dirname, "..", "fixtures", "iperf3");
const f = (name: string) => path.join(FIXTURES, `${name}.json`);

describe("importIperf3 (recorded manual runs)", () => {
  it("takes the payload and bitrate from the file, the MTU and variant from flags", () => {
    const cells = importIperf3([f("udp-8972B-mtu9000"), f("udp-65507B-mtu9000-fragmented"), f("udp-8972B-mtu9000")], {
      mtu: 9000,
      variant: "mtu9000-uso-on",
    });
    expect(cells.map((c) => c.id)).toEqual([
      "udp-8972B-plain-mtu9000-uso-on-r1",
      "udp-65507B-plain-mtu9000-uso-on-r1",
      "udp-8972B-plain-mtu9000-uso-on-r2",
    ]);
    expect(cells.map((c) => c.fragmented)).toEqual([false, true, false]);
    expect(cells.every((c) => c.status === "ok" && c.mtu === 9000 && c.bitrate === "500M" && c.durationSeconds === 2)).toBe(true);
    // A manual run was plain iperf3: USO could not show, whatever the variant says.
    expect(cells[0]!.sender).toBe("plain");
    expect(cells[0]!.evidence).toEqual({ usoRequested: true, udpOffloadDelta: null, usoEngaged: "not-exercised" });
  });

  it("defaults to MTU 1500 and variant `imported`; a flag overrides the payload", () => {
    const [c] = importIperf3([f("udp-1472B-mtu1500")], { payload: 1500 });
    expect(c!.id).toBe("udp-1500B-plain-imported-r1");
    expect(c!.mtu).toBe(1500);
    expect(c!.fragmented).toBe(true);
  });

  it("keeps failed and stalled runs with their status", () => {
    const cells = importIperf3([f("udp-1472B-mtu1500-stalled"), f("interrupted")], {});
    expect(cells.map((c) => c.status)).toEqual(["invalid", "failed"]);
    expect(cells[1]!.error).toMatch(/control socket/);
  });

  it("asks for --payload when the file does not say", () => {
    expect(() => importIperf3([f("refused")], {})).toThrow(/refused\.json: no payload size.*--payload/);
  });
});
