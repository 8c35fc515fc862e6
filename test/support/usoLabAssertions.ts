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
    expect(e.totalFrames, c.id).toBeGreaterThan(0);
    if (c.sender === "plain") {
      expect(e.largeFrames, c.id).toBe(0);
      expect(e.usoEngaged, c.id).toBe("not-exercised");
    } else if (want.uso === "on") {
      expect(e.largeFrames, c.id).toBeGreaterThan(0);
      expect(e.largestFrame, c.id).toBeGreaterThan(want.mtu + 14);
      expect(e.datagramsPerFrame, c.id).toBeGreaterThan(1);
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
