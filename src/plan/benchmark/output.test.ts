import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { everyStack, PROJECT } from "../../../test/support/stacks";
import { loadStack } from "../../config/stackFile";
import type { CaptureCounts, TapCounters } from "../../results/evidence";
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

interface LineOptions {
  exitCode?: number;
  stderr?: string;
  tap?: TapCounters | null;
  udp?: { inErrors: number | null; rcvbufErrors: number | null };
  rcvbuf?: number | null;
  counts?: CaptureCounts;
  note?: string;
  wallSeconds?: number;
  switch?: { arm: "off" | "on"; exitCode: number; stdout: string; stderr?: string };
}

/** A line as benchmark.sh's print_cell writes it: counters when given, a capture only when counts or a note are. */
function line(id: string, stdout: string, opts: LineOptions = {}): string {
  const capture = opts.counts ? { tool: "tcpdump", counts: opts.counts } : opts.note !== undefined ? { tool: "", note: opts.note } : undefined;
  const counters = opts.tap === undefined ? undefined : { tap: opts.tap, udp: opts.udp ?? { inErrors: 0, rcvbufErrors: 0 }, rcvbuf: opts.rcvbuf ?? null };
  const sw = opts.switch === undefined ? undefined : { ...opts.switch, stdout: b64(opts.switch.stdout), stderr: b64(opts.switch.stderr ?? "") };
  return JSON.stringify({
    id, exitCode: opts.exitCode ?? 0, stdout: b64(stdout), stderr: b64(opts.stderr ?? ""), wallSeconds: opts.wallSeconds ?? 12.5,
    ...(sw === undefined ? {} : { switch: sw }), ...(counters === undefined ? {} : { counters }), ...(capture === undefined ? {} : { capture }),
  });
}

const counters = (before: number | null, after: number | null) =>
  `\n${JSON.stringify({ [COUNTERS_MARKER]: { udpOffloadBefore: before, udpOffloadAfter: after } })}\n`;

describe("the benchmark step's parser", () => {
  const ids = cells.map((c) => c.id);

  it("gives one result per planned cell, in plan order, each with its own status", () => {
    const stdout = [
      line(ids[0]!, fixture("udp-8972B-mtu9000"), { tap: { frames: 20000, bytes: 20000 * 9014 }, udp: { inErrors: 3, rcvbufErrors: 2 }, rcvbuf: 212992, counts: { largeFrames: 0, largestFrame: 0, largeFrameDatagrams: 0 } }),
      line(ids[1]!, fixture("busy")),
      line(ids[2]!, fixture("udp-1472B-mtu1500-stalled"), { tap: { frames: 900, bytes: 900 * 1514 } }),
      line(ids[3]!, fixture("udp-65507B-mtu9000-fragmented") + counters(100, 4100), { tap: { frames: 0, bytes: 0 }, counts: { largeFrames: 0, largestFrame: 0, largeFrameDatagrams: 0 } }),
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
      totalFrames: 20000,
      tapBytes: 20000 * 9014,
      meanFrameBytes: 9014,
      superFrames: false,
      largeFrames: 0,
      largestFrame: 0,
      datagramsPerFrame: 1,
      udpOffloadDelta: null,
      usoEngaged: "not-exercised",
    });
    // The server's namespace counted its socket's drops: the report's receiver shape.
    expect(ok!.receiver).toEqual({ socketDrops: 2, inErrors: 3, socketBufferBytes: 212992 });
    expect(ok!.wallSeconds).toBe(12.5);
    expect(ok!.arm).toBeUndefined();
    expect(ok!.armReadBack).toBeUndefined();
    // Without a capture line, none of the capture's figures.
    expect(results[2]!.evidence).not.toHaveProperty("largeFrames");
    expect(results[2]!.evidence.meanFrameBytes).toBe(1514);

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
      line(ids[0]!, fixture("udp-8972B-mtu9000") + counters(7, 7), { tap: { frames: 10, bytes: 3 * 64810 + 7 * 9014 }, counts: { largeFrames: 3, largestFrame: 64810, largeFrameDatagrams: 132 } }),
    );
    expect(r!.evidence).toMatchObject({ largeFrames: 3, largestFrame: 64810, udpOffloadDelta: 0, usoEngaged: "yes" });
    // 3 frames of 44 datagrams and 7 of one.
    expect(r!.evidence.datagramsPerFrame).toBeCloseTo(139 / 10, 10);
  });

  it("takes super-frames in the tap's counters alone as USO engaged, without a capture", () => {
    const [r] = parseBenchmarkOutput(line(ids[0]!, fixture("udp-8972B-mtu9000"), { tap: { frames: 100, bytes: 100 * 64810 } }));
    expect(r!.evidence).toEqual({ usoRequested: true, totalFrames: 100, tapBytes: 6481000, meanFrameBytes: 64810, superFrames: true, udpOffloadDelta: null, usoEngaged: "yes" });
    // A tap whose counters could not be read is no evidence either way.
    const [unread] = parseBenchmarkOutput(line(ids[0]!, fixture("udp-8972B-mtu9000"), { tap: null, rcvbuf: 4096 }));
    expect(unread!.evidence).toEqual({ usoRequested: true, udpOffloadDelta: null, usoEngaged: "not-exercised" });
    expect(unread!.receiver).toEqual({ socketDrops: 0, inErrors: 0, socketBufferBytes: 4096 });
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

describe("the parser with in-lab arms", () => {
  const armsCfg = { ...stack, variant: "mtu9000-uso-arms", matrix: { ...stack.matrix, senders: ["plain" as const, "gso" as const], usoArms: true } };
  const armsCells = planCells(armsCfg);
  const parseArms = (stdout: string) => benchmarkStep(armsCfg, transport, after).parse(stdout).cells;
  const readBack = (requested: string, actual: string) => JSON.stringify({ interface: "eth0", requested, actual, setErrors: "" });

  it("keeps each cell's arm, pair and the switch's read-back", () => {
    const [off, on] = armsCells;
    expect([off!.arm, on!.arm, off!.pair, on!.pair]).toEqual(["off", "on", 1, 1]);
    const results = parseArms([
      line(off!.id, fixture("udp-8972B-mtu9000"), { tap: { frames: 10, bytes: 90140 }, switch: { arm: "off", exitCode: 0, stdout: readBack("off", "off") + "\n" } }),
      line(on!.id, fixture("udp-8972B-mtu9000"), { tap: { frames: 10, bytes: 90140 }, switch: { arm: "on", exitCode: 0, stdout: readBack("on", "on") } }),
    ].join("\n"));
    expect(results.slice(0, 2).map((r) => [r.status, r.arm, r.pair, r.evidence.usoRequested, JSON.parse(r.armReadBack!).actual])).toEqual([
      ["ok", "off", 1, false, "off"],
      ["ok", "on", 1, true, "on"],
    ]);
  });

  it("fails a cell whose switch did not take, naming the read-back, and only that cell", () => {
    const [off, on] = armsCells.filter((c) => c.sender === "gso");
    expect([off!.pair, on!.pair, off!.arm, on!.arm]).toEqual([1, 1, "off", "on"]);
    const results = parseArms([
      line(off!.id, "", { switch: { arm: "off", exitCode: 0, stdout: readBack("off", "off") }, tap: { frames: 1, bytes: 1514 } }),
      line(on!.id, "", { exitCode: 1, switch: { arm: "on", exitCode: 1, stdout: readBack("on", "off [fixed]"), stderr: "USO switch did not take: guest eth0: tx-udp-segmentation requested on, actual off [fixed]\n" } }),
    ].join("\n"));
    const failed = results.find((r) => r.id === on!.id)!;
    expect(failed.status).toBe("failed");
    expect(failed.error).toBe(`the switch to USO on exited 1: USO switch did not take: guest eth0: tx-udp-segmentation requested on, actual off [fixed]; read back: ${readBack("on", "off [fixed]")}`);
    expect(failed.armReadBack).toBe(readBack("on", "off [fixed]"));
    // Nothing watched it: a gso cell without counters is unverified, never `no`.
    expect(failed.evidence).toEqual({ usoRequested: true, udpOffloadDelta: null, usoEngaged: "unverified" });
    expect(failed.receiver).toBeUndefined();
    // Its pair's off cell ran: an empty guest output fails on its own terms, not the switch's.
    expect(results.find((r) => r.id === off!.id)!.error).not.toMatch(/switch/);
  });

  it("says a switch cut short by its deadline was killed", () => {
    const [off] = armsCells;
    const [r] = parseArms(line(off!.id, "", { exitCode: 124, switch: { arm: "off", exitCode: 124, stdout: "" } }));
    expect(r!.error).toBe("the switch to USO off ran past its deadline and was killed; read back: nothing");
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

describe("the output recorded from a real run (test/fixtures/stdout/sandbox-*/benchmark.out)", () => {
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
      // Every datagram the receiver counted arrived in a large frame the capture counted.
      expect(e.largeFrames! * 44).toBeGreaterThanOrEqual(c.packets!);
      // Recorded before the tap's and UDP's counters were read per cell: the capture's figures only.
      expect(e.totalFrames).toBeUndefined();
      expect(c.receiver).toBeUndefined();
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

  it("sandbox-mtu9000-uso-arms: every switch read back as its arm, super-frames at 8972 B with the arm on only, 65507 B fragmented", () => {
    const { stackCfg, out } = recorded("sandbox-mtu9000-uso-arms");
    expect(out.cells.map((c) => c.id)).toEqual(planCells(stackCfg).map((c) => c.id));
    expect(out.skipped).toMatchObject([{ sender: "gso", payloadBytes: 65507 }]);
    for (const c of out.cells) {
      expect(c.status, `${c.id}: ${c.error}`).toBe("ok");
      expect(JSON.parse(c.armReadBack!)).toMatchObject({ interface: "eth0", requested: c.arm, actual: c.arm, setErrors: "" });
      expect(c.evidence.usoRequested).toBe(c.arm === "on");
      expect(c.receiver!.socketBufferBytes).toBeGreaterThan(0);
      // What the loss was: every lost datagram counted as a drop at the server's socket or on the way.
      expect(c.receiver!.socketDrops).toBeLessThanOrEqual(c.lostPackets! + c.receiver!.inErrors!);
      expect(c.wallSeconds).toBeGreaterThan(c.durationSeconds);
      expect(c.fragmented).toBe(c.payloadBytes === 65507);
      expect(c.evidence).not.toHaveProperty("largeFrames");
      const engaged = c.sender === "gso" && c.arm === "on";
      expect([c.id, c.evidence.superFrames, c.evidence.usoEngaged]).toEqual([c.id, engaged, c.sender === "plain" ? "not-exercised" : engaged ? "yes" : "no"]);
      if (engaged) expect(c.evidence.meanFrameBytes!).toBeGreaterThan(9014);
      else expect(c.evidence.meanFrameBytes!).toBeLessThanOrEqual(9014);
    }
  });

  it("is refused for the other stack's matrix: the ids name the variant", () => {
    const on = fs.readFileSync(path.join(PROJECT, "test", "fixtures", "stdout", "sandbox-uso-on", "benchmark.out"), "utf8");
    const offCfg = everyStack().find((c) => c.stack === "sandbox-uso-off")!;
    expect(() => benchmarkStep(offCfg, transport, after).parse(on)).toThrow(/cell udp-1472B-plain-mtu1500-uso-on-r1 that the matrix does not plan/);
  });
});
