import { expect } from "vitest";
import type { CellResult } from "../../src/results/cell";

/** What a USO lab stack's outputs (sandbox-uso-off/on) must show; takes nothing but the outputs. */
export interface UsoLabExpectation {
  /** The guest's tx-udp-segmentation as the stack asks it. */
  readonly uso: "on" | "off";
  readonly mtu: number;
  readonly payloadBytes: number;
  readonly senders: readonly string[];
  readonly repetitions: number;
  /**
   * The run read the tap's and UDP's counters per cell (counters-lib.sh). False for the
   * recordings of test/fixtures/stdout/sandbox-uso-*, made before it did: their cells carry the
   * capture's figures only.
   */
  readonly counters: boolean;
}

interface Feature {
  readonly feature: string;
  readonly requested: string;
  readonly actual: string;
}

/**
 * The USO lab's verdicts from stack outputs alone, so the same checks hold for a live `pulumi up`
 * (test/engine/usoLab.test.ts) and for its recorded steps replayed under mocks: gso cells engaged `yes` with
 * large frames when USO is on, `no` and none when off; plain cells `not-exercised`; the guest
 * read back tx-udp-segmentation as asked.
 */
export function expectUsoLabOutputs(outputs: Record<string, unknown>, want: UsoLabExpectation): void {
  const cells = outputs.cells as CellResult[];
  expect(cells).toHaveLength(want.senders.length * want.repetitions);
  for (const c of cells) {
    expect(c.status, `${c.id}: ${c.error}`).toBe("ok");
    expect(c.id).toContain(`-${c.sender}-`);
    expect(c.mtu).toBe(want.mtu);
    expect(c.payloadBytes).toBe(want.payloadBytes);
    expect(c.throughputBps).toBeGreaterThan(0);
    const e = c.evidence;
    if (want.counters) {
      expect(e.totalFrames, c.id).toBeGreaterThan(0);
      // The tap's counters alone say the same as the capture: super-frames only with USO on.
      expect(e.superFrames, c.id).toBe(c.sender !== "plain" && want.uso === "on");
      expect(c.receiver?.socketBufferBytes, c.id).toBeGreaterThan(0);
    }
    if (c.sender === "plain") {
      expect(e.largeFrames, c.id).toBe(0);
      expect(e.usoEngaged, c.id).toBe("not-exercised");
    } else if (want.uso === "on") {
      expect(e.largeFrames, c.id).toBeGreaterThan(0);
      expect(e.largestFrame, c.id).toBeGreaterThan(want.mtu + 14);
      if (want.counters) expect(e.datagramsPerFrame, c.id).toBeGreaterThan(1);
      expect(e.usoEngaged, c.id).toBe("yes");
    } else {
      expect(e.largeFrames, c.id).toBe(0);
      expect(e.usoEngaged, c.id).toBe("no");
    }
  }
  expect([...new Set(cells.map((c) => c.sender))].sort()).toEqual([...want.senders].sort());
  const readback = outputs.offloadReadback as { guest: { mtu: { actual: number }; features: Feature[] } };
  expect(readback.guest.mtu.actual).toBe(want.mtu);
  const uso = readback.guest.features.find((f) => f.feature === "tx-udp-segmentation");
  expect(uso).toMatchObject({ requested: want.uso });
  expect(uso!.actual.split(" ")[0]).toBe(want.uso);
  // Settable, not [fixed]: the device offers USO in both stacks.
  expect(uso!.actual).not.toContain("[fixed]");
  expect(outputs.host).toMatchObject({ qemuHostUso: true });
}

/** What an in-lab arms stack's outputs (sandbox-mtuNNNN-uso-arms) must show, from the outputs alone. */
export interface ArmsLabExpectation {
  readonly mtu: number;
  readonly payloads: readonly number[];
  readonly bitrates: readonly string[];
  readonly repetitions: number;
}

/**
 * In-lab arms: every cell in both arms, paired (off right before on), its switch read back as
 * its arm; gso at MTU − 28 engaged `yes` with super-frames (mean frame on the tap above MTU + 14)
 * with the arm on and `no` without them off; plain `not-exercised`; payloads above MTU − 28
 * fragmented (and gso not planned there); the receiver's counters on every cell.
 */
export function expectArmsLabOutputs(outputs: Record<string, unknown>, want: ArmsLabExpectation): void {
  const cells = outputs.cells as CellResult[];
  const limit = want.mtu - 28;
  const rows = want.payloads.flatMap((p) => (p <= limit ? ["plain", "gso"] : ["plain"]).map((sender) => [p, sender] as const));
  expect(cells).toHaveLength(rows.length * want.bitrates.length * want.repetitions * 2);
  for (const [i, c] of cells.entries()) {
    expect(c.arm, c.id).toBe(i % 2 === 0 ? "off" : "on");
    expect(c.pair, c.id).toBe(c.repetition);
    expect(c.evidence.usoRequested, c.id).toBe(c.arm === "on");
    const readBack = JSON.parse(c.armReadBack ?? "null") as { requested: string; actual: string } | null;
    expect(readBack, c.id).toMatchObject({ requested: c.arm, actual: c.arm });
    expect(c.wallSeconds, c.id).toBeGreaterThan(c.durationSeconds);
    expect(c.receiver, c.id).toBeDefined();
    expect(c.receiver!.socketBufferBytes, c.id).toBeGreaterThan(0);
    expect(c.fragmented, c.id).toBe(c.payloadBytes > limit);
    const e = c.evidence;
    expect(e.totalFrames, c.id).toBeGreaterThan(0);
    if (c.payloadBytes > limit) {
      expect(c.sender, c.id).toBe("plain");
      // Fragments: never one frame above the MTU, whatever the arm.
      expect(e.superFrames, c.id).toBe(false);
      expect(e.usoEngaged, c.id).toBe("not-exercised");
    } else if (c.sender === "plain") {
      expect(e.superFrames, c.id).toBe(false);
      expect(e.usoEngaged, c.id).toBe("not-exercised");
    } else if (c.arm === "on") {
      expect(c.status, `${c.id}: ${c.error}`).toBe("ok");
      expect(e.superFrames, c.id).toBe(true);
      expect(e.meanFrameBytes, c.id).toBeGreaterThan(want.mtu + 14);
      expect(e.usoEngaged, c.id).toBe("yes");
    } else {
      expect(c.status, `${c.id}: ${c.error}`).toBe("ok");
      expect(e.superFrames, c.id).toBe(false);
      expect(e.meanFrameBytes, c.id).toBeLessThanOrEqual(want.mtu + 14);
      expect(e.usoEngaged, c.id).toBe("no");
    }
    // No capture ran (capture.frames false): none of its figures.
    expect(e.largeFrames, c.id).toBeUndefined();
  }
  expect(outputs.network).toMatchObject({ mtu: want.mtu });
  expect(outputs.guest).toMatchObject({ domain: { tapMtu: want.mtu } });
  expect(outputs.host).toMatchObject({ qemuHostUso: true });
}
