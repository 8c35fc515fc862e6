import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { cellResult } from "../../src/results/benchmarkCell";
import type { Cell } from "../../src/results/cell";
import { parseIperf3 } from "../../src/results/iperf3";

// iperf3 3.22 clients (the guest image's, in a chroot) against the host's 3.12 server with -J,
// recorded by test/fixtures/iperf3/record.sh: plain, --gsro at 1472 B on MTU 1500, and --gsro
// with 1473 B datagrams, one above MTU - 28.
const FIXTURES = path.join(__dirname, "..", "fixtures", "iperf3");
const text = (name: string) => fs.readFileSync(path.join(FIXTURES, `${name}.json`), "utf8");
const raw = (name: string) => JSON.parse(text(name));

// A cell as the matrix plans one with the gso sender (`sender` is the matrix factor).
const gsoCell = (id: string, payloadBytes: number): Cell => {
  const cell = { id, variant: "mtu1500-uso-on", sender: "gso" as const, payloadBytes, mtu: 1500, bitrate: "200M", repetition: 1, durationSeconds: 2, fragmented: false, usoRequested: true };
  return cell;
};
const evidence = { usoRequested: true, usoEngaged: "unknown" as const };

describe("iperf3 3.22 client, 3.12 server", () => {
  it("--gsro at 1472 B: a sound run that says it sent with GSO", () => {
    const doc = raw("udp-1472B-mtu1500-gsro");
    const run = parseIperf3(text("udp-1472B-mtu1500-gsro"));
    expect(run.version).toBe("iperf 3.22");
    expect(run.error).toBeNull();
    expect(run.gso).toBe(true);
    expect(run.payloadBytes).toBe(1472);
    expect(run.throughputBps).toBe(doc.end.sum_received.bits_per_second);
    expect(run.throughputBps).toBeGreaterThan(0);
    expect(run.packets).toBeGreaterThan(0);
    expect(run.invalidReason).toBeNull();
    const cell = cellResult(gsoCell("udp-1472B-mtu1500-uso-on-gso-200M-r1", 1472), run, evidence);
    expect(cell.status).toBe("ok");
    expect(cell.error).toBeNull();
  });

  it("--gsro above MTU - 28: 0 packets and no iperf3 error, so the cell is invalid with the reason, not 0 bit/s ok", () => {
    const doc = raw("udp-1473B-mtu1500-gsro-oversize");
    // What the recording shows: a finished test, no error, nothing sent or received.
    expect(doc.error).toBeUndefined();
    expect(doc.end.sum_sent.bytes).toBe(0);
    expect(doc.end.sum_received.packets).toBe(0);
    const run = parseIperf3(text("udp-1473B-mtu1500-gsro-oversize"));
    expect(run.error).toBeNull();
    expect(run.gso).toBe(true);
    expect(run.throughputBps).toBe(0);
    expect(run.packets).toBe(0);
    expect(run.invalidReason).toBe(
      "no datagram was received (0 packets, 0 bytes sent): with --gsro, datagrams of 1473 B above the path MTU - 28 are never sent, and iperf3 reports no error",
    );
    const cell = cellResult(gsoCell("udp-1473B-mtu1500-uso-on-gso-200M-r1", 1473), run, evidence);
    expect(cell.status).toBe("invalid");
    expect(cell.error).toBe(run.invalidReason);
  });

  it("plain 3.22: no GSO, and the loss is the server's count, not the client's copy of it", () => {
    const doc = raw("udp-1472B-mtu1500-iperf3.22");
    const run = parseIperf3(text("udp-1472B-mtu1500-iperf3.22"));
    expect(run.version).toBe("iperf 3.22");
    expect(run.error).toBeNull();
    expect(run.gso).toBe(false);
    expect(run.invalidReason).toBeNull();
    const server = doc.server_output_json.end.sum_received;
    // The recording shows the mismatch: the 3.22 client reports 0 lost, the 3.12 server more.
    expect(doc.end.sum_received.lost_packets).toBe(0);
    expect(server.lost_packets).toBeGreaterThan(0);
    expect(run.lostPackets).toBe(server.lost_packets);
    expect(run.lossPercent).toBe(server.lost_percent);
    expect(run.jitterMs).toBe(server.jitter_ms);
    // Received bytes agree with the server's count of datagrams that arrived.
    expect(doc.end.sum_received.bytes).toBe((server.packets - server.lost_packets) * 1472);
  });

  it("a 3.12 run without GSO keys reads as gso false", () => {
    expect(parseIperf3(text("udp-1472B-mtu1500")).gso).toBe(false);
  });
});
