import * as fs from "node:fs";
import * as path from "node:path";
import type { CellResult } from "../../src/results/cell";

export const FIXTURES = path.join(__dirname, "..", "fixtures", "report");

export function fixtureCells(rel: string): CellResult[] {
  const doc = JSON.parse(fs.readFileSync(path.join(FIXTURES, rel), "utf8"));
  return Array.isArray(doc) ? doc : doc.cells;
}

/** A well-formed ok cell to vary in tests. */
export function makeCell(over: Partial<CellResult> & { variant: string }): CellResult {
  return {
    id: `udp-1472B-${over.variant}-r${over.repetition ?? 1}`,
    status: "ok",
    error: null,
    payloadBytes: 1472,
    mtu: 1500,
    bitrate: "1G",
    repetition: 1,
    durationSeconds: 10,
    throughputBps: 600e6,
    senderBps: 601e6,
    jitterMs: 0.05,
    lostPackets: 10,
    packets: 50000,
    lossPercent: 0.02,
    outOfOrder: 0,
    guestCpuPercent: 8,
    hostCpuPercent: 5,
    fragmented: false,
    stalled: false,
    evidence: { usoRequested: false, usoEngaged: "no" },
    ...over,
  };
}
