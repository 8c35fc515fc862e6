import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { bitrateFlag, isStalled, parseIperf3 } from "../../src/results/iperf3";

// Fixtures are recorded by test/fixtures/iperf3/record.sh from real iperf3 3.12 runs (the 3.22
// ones, --gsro among them, are read in iperf3Gso.test.ts).
const FIXTURES = path.join(__dirname, "..", "fixtures", "iperf3");
const text = (name: string) => fs.readFileSync(path.join(FIXTURES, `${name}.json`), "utf8");
// The raw document, to check the parser picks the documented keys and not some other sum.
const raw = (name: string) => JSON.parse(text(name));

describe("parseIperf3 on recorded runs", () => {
  it("reads receiver truth from end.sum_received, the sender from end.sum_sent", () => {
    const doc = raw("udp-1472B-mtu1500");
    const run = parseIperf3(text("udp-1472B-mtu1500"));
    expect(run.error).toBeNull();
    expect(run.throughputBps).toBe(doc.end.sum_received.bits_per_second);
    expect(run.senderBps).toBe(doc.end.sum_sent.bits_per_second);
    expect(run.throughputBps).not.toBe(run.senderBps);
    expect(run.jitterMs).toBe(doc.end.sum_received.jitter_ms);
    expect(run.lostPackets).toBe(doc.end.sum_received.lost_packets);
    expect(run.packets).toBe(doc.end.sum_received.packets);
    expect(run.lossPercent).toBe(doc.end.sum_received.lost_percent);
    expect(run.outOfOrder).toBe(doc.end.streams[0].udp.out_of_order);
    expect(run.localCpuPercent).toBe(doc.end.cpu_utilization_percent.host_total);
    expect(run.remoteCpuPercent).toBe(doc.end.cpu_utilization_percent.remote_total);
    expect(run.payloadBytes).toBe(1472);
    expect(run.durationSeconds).toBe(2);
    expect(run.targetBitrate).toBe(200_000_000);
    expect(run.version).toMatch(/^iperf 3\.12/);
    expect(run.stalled).toBe(false);
    // The server ran with -J: its intervals are the receiver's, the last one a short tail.
    expect(run.receiverIntervals?.length).toBe(doc.server_output_json.intervals.length);
  });

  it.each([
    ["udp-512B-mtu1500", 512],
    ["udp-8972B-mtu9000", 8972],
    ["udp-65507B-mtu1500-fragmented", 65507],
    ["udp-65507B-mtu9000-fragmented", 65507],
  ])("%s is a finished, unstalled run of %i-byte datagrams", (name, payload) => {
    const run = parseIperf3(text(name));
    expect(run.error).toBeNull();
    expect(run.payloadBytes).toBe(payload);
    expect(run.throughputBps).toBeGreaterThan(0);
    expect(run.stalled).toBe(false);
  });

  it("reverse: the client received, so its own intervals are the receiver's", () => {
    const doc = raw("udp-1472B-mtu1500-reverse");
    const run = parseIperf3(text("udp-1472B-mtu1500-reverse"));
    expect(run.reverse).toBe(true);
    expect(run.receiverIntervals?.map((i) => i.bytes)).toEqual(doc.intervals.map((i: { sum: { bytes: number } }) => i.sum.bytes));
    expect(run.throughputBps).toBe(doc.end.sum_received.bits_per_second);
  });

  it.each([
    ["busy", /server is busy/],
    ["refused", /Connection refused/],
    ["interrupted", /control socket has closed unexpectedly/],
  ])("%s: iperf3's error is the cell's error and no numbers are made up", (name, message) => {
    const run = parseIperf3(text(name));
    expect(run.error).toMatch(message);
    expect(run.throughputBps).toBeNull();
    expect(run.lossPercent).toBeNull();
    expect(run.stalled).toBe(false);
  });

  it("detects a receiver that stopped part-way from server_output_json", () => {
    const run = parseIperf3(text("udp-1472B-mtu1500-stalled"));
    expect(run.error).toBeNull();
    expect(run.stalled).toBe(true);
    expect(run.receiverIntervals?.at(-1)?.bytes).toBe(0);
  });

  it("detects the same stall from a server that reported as text", () => {
    const stalled = parseIperf3(text("udp-1472B-mtu1500-stalled-textserver"));
    expect(stalled.receiverIntervals?.length).toBe(3);
    expect(stalled.stalled).toBe(true);
    const healthy = parseIperf3(text("udp-1472B-mtu1500-textserver"));
    expect(healthy.receiverIntervals?.every((i) => i.bytes > 0)).toBe(true);
    expect(healthy.stalled).toBe(false);
  });

  it("turns output that is not an iperf3 document into an error instead of throwing", () => {
    expect(parseIperf3("").error).toMatch(/printed nothing/);
    expect(parseIperf3("iperf3: error - unable to connect").error).toMatch(/not JSON/);
    expect(parseIperf3("[1,2]").error).toMatch(/not a JSON object/);
    const cut = text("udp-1472B-mtu1500").slice(0, 500);
    expect(parseIperf3(cut).error).toMatch(/not JSON/);
  });
});

describe("isStalled", () => {
  const i = (start: number, seconds: number, bytes: number) => ({ start, seconds, bytes });
  it("ignores a short zero tail after the sender stopped and a receiver that never got anything", () => {
    expect(isStalled([i(0, 1, 10), i(1, 1, 10), i(2, 0.001, 0)], 2)).toBe(false);
    expect(isStalled([i(0, 1, 0), i(1, 1, 0)], 2)).toBe(false);
    expect(isStalled(null, 2)).toBe(false);
  });
  it("flags a whole silent interval while the sender was sending", () => {
    expect(isStalled([i(0, 1, 10), i(1, 1, 0), i(2, 1, 0)], 3)).toBe(true);
    expect(isStalled([i(0, 1, 10), i(1, 1, 0), i(2, 1, 10)], 3)).toBe(true);
    expect(isStalled([i(0, 1, 10), i(1, 1, 0)], 1)).toBe(false);
  });
});

describe("bitrateFlag", () => {
  it("writes a target bitrate as the -b value that asks for it", () => {
    expect(bitrateFlag(1_000_000_000)).toBe("1G");
    expect(bitrateFlag(200_000_000)).toBe("200M");
    expect(bitrateFlag(1_500_000)).toBe("1500K");
    expect(bitrateFlag(0)).toBe("0");
    expect(bitrateFlag(1234)).toBe("1234");
  });
});
