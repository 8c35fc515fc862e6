import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { loadStack } from "../../src/config/stackFile";
import { planCells } from "../../src/plan/benchmark/cells";
import { guestIperf3Version, parseBenchmarkOutput, splitGuestOutput } from "../../src/results/benchmark";
import type { TapCounts } from "../../src/results/evidence";

// Benchmark lines wrap recorded iperf3 output (test/fixtures/iperf3, from real runs) the way
// the benchmark step does: base64 of the guest's stdout beside the tap's counts.
const FIXTURES = path.join(__dirname, "..", "fixtures", "iperf3");
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, `${name}.json`), "utf8");
const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

const cfg = loadStack(path.join(__dirname, "..", ".."), "mtu9000-uso-on");
const cells = planCells(cfg);

function line(id: string, stdout: string, opts: { exitCode?: number; stderr?: string; counts?: TapCounts; note?: string } = {}): string {
  const capture = opts.counts ? { tool: "tcpdump", counts: opts.counts } : { tool: "", note: opts.note ?? "capture disabled" };
  return JSON.stringify({ id, exitCode: opts.exitCode ?? 0, stdout: b64(stdout), stderr: b64(opts.stderr ?? ""), capture });
}

const counters = (before: number | null, after: number | null) =>
  `\n${JSON.stringify({ offloadLabCounters: { udpOffloadBefore: before, udpOffloadAfter: after } })}\n`;

describe("parseBenchmarkOutput", () => {
  const ids = cells.map((c) => c.id);

  it("gives one result per planned cell, in plan order, each with its own status", () => {
    const stdout = [
      line(ids[0]!, fixture("udp-8972B-mtu9000"), { counts: { largeFrames: 0, largestFrame: 0, largeFrameDatagrams: 0, totalFrames: 20000 } }),
      line(ids[1]!, fixture("busy")),
      line(ids[2]!, fixture("udp-1472B-mtu1500-stalled"), { counts: { largeFrames: 0, largestFrame: 0, largeFrameDatagrams: 0, totalFrames: 900 } }),
      line(ids[3]!, fixture("udp-65507B-mtu9000-fragmented") + counters(100, 4100), { counts: { largeFrames: 0, largestFrame: 0, largeFrameDatagrams: 0, totalFrames: 0 } }),
      line(ids[4]!, "", { exitCode: 124, stderr: "guest agent: timed out\n" }),
    ].join("\n");
    const results = parseBenchmarkOutput(stdout + "\n", cfg);
    expect(results.map((r) => r.id)).toEqual(ids);
    const [ok, busy, stalled, counted, killed, missing] = results;

    expect(ok!.status).toBe("ok");
    expect(ok!.throughputBps).toBe(JSON.parse(fixture("udp-8972B-mtu9000")).end.sum_received.bits_per_second);
    expect(ok!.payloadBytes).toBe(8972);
    expect(ok!.fragmented).toBe(false);
    expect(ok!.sender).toBe("plain");
    // USO was asked for, the tap saw no frame above MTU + 14, but a plain sender cannot show USO.
    expect(ok!.evidence).toEqual({
      usoRequested: true,
      largeFrames: 0,
      largestFrame: 0,
      totalFrames: 20000,
      datagramsPerFrame: 1,
      udpOffloadDelta: null,
      usoEngaged: "not-exercised",
    });

    expect(busy!.status).toBe("failed");
    expect(busy!.error).toMatch(/server is busy/);
    expect(busy!.throughputBps).toBeNull();

    expect(stalled!.status).toBe("invalid");
    expect(stalled!.stalled).toBe(true);
    expect(stalled!.error).toMatch(/iperf#1934/);

    // The NetKVM counter is direct evidence, even where the tap saw nothing.
    expect(counted!.status).toBe("ok");
    expect(counted!.fragmented).toBe(true);
    expect(counted!.evidence.udpOffloadDelta).toBe(4000);
    expect(counted!.evidence.largeFrames).toBe(0);
    expect(counted!.evidence.datagramsPerFrame).toBeNull();
    expect(counted!.evidence.usoEngaged).toBe("yes");

    expect(killed!.status).toBe("failed");
    expect(killed!.error).toMatch(/deadline.*guest agent: timed out/);

    expect(missing!.status).toBe("failed");
    expect(missing!.error).toMatch(/stopped before reporting it/);
    expect(results.slice(6).every((r) => r.status === "failed")).toBe(true);
  });

  it("keeps iperf3's own error when the guest exit code is non-zero too", () => {
    const [r] = parseBenchmarkOutput(line(ids[0]!, fixture("refused"), { exitCode: 1, stderr: "x" }), cfg);
    expect(r!.error).toBe("unable to connect to server: Connection refused");
  });

  it("says a client killed at its deadline was killed, even when it had begun printing", () => {
    const partial = fixture("udp-8972B-mtu9000").slice(0, 300);
    const [r] = parseBenchmarkOutput(line(ids[0]!, partial, { exitCode: 137 }), cfg);
    expect(r!.status).toBe("failed");
    expect(r!.error).toMatch(/^the cell ran past its deadline and was killed \(iperf3 output is not JSON/);
  });

  it("takes large frames on the tap as USO engaged, whatever the counter says", () => {
    const [r] = parseBenchmarkOutput(
      line(ids[0]!, fixture("udp-8972B-mtu9000") + counters(7, 7), { counts: { largeFrames: 3, largestFrame: 64810, largeFrameDatagrams: 132, totalFrames: 10 } }),
      cfg,
    );
    expect(r!.evidence).toMatchObject({ largeFrames: 3, largestFrame: 64810, udpOffloadDelta: 0, usoEngaged: "yes" });
    // 3 frames of 44 datagrams and 7 of one.
    expect(r!.evidence.datagramsPerFrame).toBeCloseTo(139 / 10, 10);
  });

  it("refuses output that belongs to another matrix or is not JSON lines", () => {
    expect(() => parseBenchmarkOutput(line("udp-1B-other-r1", fixture("busy")), cfg)).toThrow(/does not plan/);
    expect(() => parseBenchmarkOutput("cell 1/6 starting", cfg)).toThrow(/line 1 is not JSON/);
    expect(() => parseBenchmarkOutput('{"id":"x"}', cfg)).toThrow(/lacks/);
  });

  it("accepts a cell list instead of a config", () => {
    const two = cells.slice(0, 2);
    const results = parseBenchmarkOutput(line(two[1]!.id, fixture("udp-8972B-mtu9000")), two);
    expect(results.map((r) => r.status)).toEqual(["failed", "ok"]);
  });

  it("finds the guest's iperf3 version", () => {
    expect(guestIperf3Version([line(ids[0]!, fixture("refused")), line(ids[1]!, fixture("udp-8972B-mtu9000"))].join("\n"))).toMatch(/^iperf 3\.12/);
    expect(guestIperf3Version("")).toBeNull();
  });
});

describe("splitGuestOutput", () => {
  it("separates a Windows guest's counters line (CRLF) from the iperf3 JSON", () => {
    const json = fixture("udp-8972B-mtu9000");
    const out = splitGuestOutput((json + counters(1, null)).replace(/\n/g, "\r\n"));
    expect(JSON.parse(out.iperf3).end.sum_received.packets).toBe(JSON.parse(json).end.sum_received.packets);
    expect(out.udpOffloadBefore).toBe(1);
    expect(out.udpOffloadAfter).toBeNull();
  });
  it("leaves output without a counters line whole", () => {
    const json = fixture("busy");
    expect(splitGuestOutput(json)).toEqual({ iperf3: json, udpOffloadBefore: null, udpOffloadAfter: null });
  });
});
