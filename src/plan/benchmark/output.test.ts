import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { everyStack, PROJECT } from "../../../test/support/stacks";
import { loadStack } from "../../config/stackFile";
import type { TapCounts } from "../../results/evidence";
import type { Step } from "../step";
import { planCells } from "./cells";
import { COUNTERS_MARKER, parseBenchmark, splitGuestOutput } from "./output";
import { benchmarkStep } from "./step";

// Benchmark lines wrap recorded iperf3 output (test/fixtures/iperf3, from real runs) the way
// the benchmark step does: base64 of the guest's stdout beside the tap's counts.
const FIXTURES = path.join(PROJECT, "test", "fixtures", "iperf3");
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, `${name}.json`), "utf8");
const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

const stand = { name: "stand-in" } as Step;
const after = { iperf3Server: stand, guestOffloads: stand, hostOffloads: stand, guestNetwork: stand };
const transport = { kind: "netns" as const, description: "unused", functionDefinition: "guest_exec() { sh -s; }", secretEnv: {}, hostTools: [] };
// The iperf3 cells of the stack (its uso cells have their own parser, usoSender.test.ts).
const stack = loadStack(PROJECT, "mtu9000-uso-on");
const cfg = { ...stack, matrix: { ...stack.matrix, senders: ["plain" as const] } };
const cells = planCells(cfg);
/** The step's own parser: the cells planned for the config. */
const parseBenchmarkOutput = (stdout: string) => benchmarkStep(cfg, transport, after).parse(stdout).cells;

function line(id: string, stdout: string, opts: { exitCode?: number; stderr?: string; counts?: TapCounts; note?: string } = {}): string {
  const capture = opts.counts ? { tool: "tcpdump", counts: opts.counts } : { tool: "", note: opts.note ?? "capture disabled" };
  return JSON.stringify({ id, exitCode: opts.exitCode ?? 0, stdout: b64(stdout), stderr: b64(opts.stderr ?? ""), capture });
}

const counters = (before: number | null, after: number | null) =>
  `\n${JSON.stringify({ [COUNTERS_MARKER]: { udpOffloadBefore: before, udpOffloadAfter: after } })}\n`;

describe("the benchmark step's parser", () => {
  const ids = cells.map((c) => c.id);

  it("adds why firewalld turned the guest away to a failed cell's error, and to nothing else", () => {
    const why = "the KVM host's firewalld zone libvirt (bridge olbr0) rejects 12345/tcp 12345/udp from the guest, and host.firewall is leave: set host.firewall: open, or open them on the host";
    const withFirewall = (text: string) => JSON.stringify({ ...JSON.parse(text), firewall: why });
    const results = parseBenchmarkOutput([
      withFirewall(line(ids[0]!, fixture("refused"))),
      withFirewall(line(ids[1]!, fixture("udp-8972B-mtu9000"))),
    ].join("\n"));
    expect(results[0]!.status).toBe("failed");
    expect(results[0]!.error).toMatch(/^unable to connect to server.* — the KVM host's firewalld zone libvirt .* host\.firewall is leave/);
    expect(results[1]!.status).toBe("ok");
    expect(results[1]!.error).toBeNull();
  });

  it("gives one result per planned cell, in plan order, each with its own status", () => {
    const stdout = [
      line(ids[0]!, fixture("udp-8972B-mtu9000"), { counts: { largeFrames: 0, largestFrame: 0, largeFrameDatagrams: 0, totalFrames: 20000 } }),
      line(ids[1]!, fixture("busy")),
      line(ids[2]!, fixture("udp-1472B-mtu1500-stalled"), { counts: { largeFrames: 0, largestFrame: 0, largeFrameDatagrams: 0, totalFrames: 900 } }),
      line(ids[3]!, fixture("udp-65507B-mtu9000-fragmented") + counters(100, 4100), { counts: { largeFrames: 0, largestFrame: 0, largeFrameDatagrams: 0, totalFrames: 0 } }),
      line(ids[4]!, "", { exitCode: 124, stderr: "guest agent: timed out\n" }),
    ].join("\n");
    const results = parseBenchmarkOutput(stdout + "\n");
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
    const [r] = parseBenchmarkOutput(line(ids[0]!, fixture("refused"), { exitCode: 1, stderr: "x" }));
    expect(r!.error).toBe("unable to connect to server: Connection refused");
  });

  it("says a client killed at its deadline was killed, even when it had begun printing", () => {
    const partial = fixture("udp-8972B-mtu9000").slice(0, 300);
    const [r] = parseBenchmarkOutput(line(ids[0]!, partial, { exitCode: 137 }));
    expect(r!.status).toBe("failed");
    expect(r!.error).toMatch(/^the cell ran past its deadline and was killed \(iperf3 output is not JSON/);
  });

  it("takes large frames on the tap as USO engaged, whatever the counter says", () => {
    const [r] = parseBenchmarkOutput(
      line(ids[0]!, fixture("udp-8972B-mtu9000") + counters(7, 7), { counts: { largeFrames: 3, largestFrame: 64810, largeFrameDatagrams: 132, totalFrames: 10 } }),
    );
    expect(r!.evidence).toMatchObject({ largeFrames: 3, largestFrame: 64810, udpOffloadDelta: 0, usoEngaged: "yes" });
    // 3 frames of 44 datagrams and 7 of one.
    expect(r!.evidence.datagramsPerFrame).toBeCloseTo(139 / 10, 10);
  });

  it("refuses output that belongs to another matrix or is not JSON lines", () => {
    expect(() => parseBenchmarkOutput(line("udp-1B-other-r1", fixture("busy")))).toThrow(/does not plan/);
    expect(() => parseBenchmarkOutput("cell 1/6 starting")).toThrow(/line 1 is not JSON/);
    expect(() => parseBenchmarkOutput('{"id":"x"}')).toThrow(/lacks/);
    // The guest's bytes travel as base64: anything else is not the loop's line.
    expect(() => parseBenchmarkOutput(JSON.stringify({ id: ids[0], exitCode: 0, stdout: "{not base64}", stderr: "", capture: { tool: "" } }))).toThrow(/line 1 lacks .*stdout/);
  });

  it("accepts a cell list instead of a config", () => {
    const two = cells.slice(0, 2);
    const results = parseBenchmark(line(two[1]!.id, fixture("udp-8972B-mtu9000")), two).cells;
    expect(results.map((r) => r.status)).toEqual(["failed", "ok"]);
  });

  it("finds the guest's iperf3 version", () => {
    const step = benchmarkStep(cfg, transport, after);
    expect(step.parse([line(ids[0]!, fixture("refused")), line(ids[1]!, fixture("udp-8972B-mtu9000"))].join("\n")).guestIperf3).toMatch(/^iperf 3\.12/);
    expect(step.parse("").guestIperf3).toBeNull();
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

describe("the output recorded from a real run (test/fixtures/stdout/sandbox-uso-*/benchmark.out)", () => {
  const recorded = (stack: string) => {
    const stackCfg = everyStack().find((c) => c.stack === stack)!;
    const stdout = fs.readFileSync(path.join(PROJECT, "test", "fixtures", "stdout", stack, "benchmark.out"), "utf8");
    return { stackCfg, out: benchmarkStep(stackCfg, transport, after).parse(stdout) };
  };

  it("sandbox-uso-on: every cell ok, the gso sender's super-frames are USO engaged, the plain sender cannot show it", () => {
    const { stackCfg, out } = recorded("sandbox-uso-on");
    expect(out.guestIperf3).toBe("iperf 3.22");
    expect(out.cells.map((c) => c.id)).toEqual(planCells(stackCfg).map((c) => c.id));
    for (const c of out.cells) {
      expect(c.status, `${c.id}: ${c.error}`).toBe("ok");
      expect(c.throughputBps).toBeGreaterThan(0);
      expect(c.payloadBytes).toBe(1472);
    }
    const gso = out.cells.filter((c) => c.sender === "gso");
    const plain = out.cells.filter((c) => c.sender === "plain");
    for (const c of gso) {
      const e = c.evidence;
      expect(e).toMatchObject({ usoRequested: true, largestFrame: 64810, udpOffloadDelta: null, usoEngaged: "yes" });
      // 44 datagrams of 1472 B under one IP and UDP header (42 B with Ethernet): a super-frame.
      expect((e.largestFrame! - 42) % 1472).toBe(0);
      // Nearly every frame the guest sent is one; the rest are single datagrams.
      expect(e.largeFrames!).toBeGreaterThan(0.9 * e.totalFrames!);
      expect(e.datagramsPerFrame).toBeCloseTo((e.largeFrames! * 44 + (e.totalFrames! - e.largeFrames!)) / e.totalFrames!, 0);
      // Every datagram the receiver counted arrived in a frame the tap counted.
      expect(Math.round(e.datagramsPerFrame! * e.totalFrames!)).toBeGreaterThanOrEqual(c.packets!);
    }
    expect(plain.map((c) => [c.evidence.largeFrames, c.evidence.usoEngaged])).toEqual([[0, "not-exercised"], [0, "not-exercised"]]);
  });

  it("sandbox-uso-off: the same cells ok, and the gso sender shows no super-frame: USO not engaged", () => {
    const { out } = recorded("sandbox-uso-off");
    expect(out.guestIperf3).toBe("iperf 3.22");
    expect(out.cells.map((c) => c.status)).toEqual(["ok", "ok", "ok", "ok"]);
    expect(out.cells.map((c) => [c.sender, c.evidence.usoRequested, c.evidence.largeFrames, c.evidence.usoEngaged])).toEqual([
      ["plain", false, 0, "not-exercised"],
      ["plain", false, 0, "not-exercised"],
      ["gso", false, 0, "no"],
      ["gso", false, 0, "no"],
    ]);
  });

  it("is refused for the other stack's matrix: the ids name the variant", () => {
    const on = fs.readFileSync(path.join(PROJECT, "test", "fixtures", "stdout", "sandbox-uso-on", "benchmark.out"), "utf8");
    const offCfg = everyStack().find((c) => c.stack === "sandbox-uso-off")!;
    expect(() => benchmarkStep(offCfg, transport, after).parse(on)).toThrow(/cell udp-1472B-plain-mtu1500-uso-on-r1 that the matrix does not plan/);
  });
});
