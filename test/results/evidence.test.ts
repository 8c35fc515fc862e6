import { describe, expect, it } from "vitest";
import { type CaptureCounts, cellEvidence, datagramsPerFrame, meanFrameBytes, superFrames, type TapCounters, usoVerdict } from "../../src/results/evidence";

// Counts as the lab reads them: MTU 1500, a gso sender at 1472 B. A USO super-frame of 44
// datagrams is 64810 B on the tap; an ordinary frame 1514 B.
const MTU = 1500;
const tap = (frames: number, bytes: number): TapCounters => ({ frames, bytes });
const superTap = tap(1000, 1000 * 64810);
const plainTap = tap(1000, 1000 * 1514);
const captured = (largeFrames: number): CaptureCounts => ({ largeFrames, largestFrame: largeFrames > 0 ? 64810 : 0, largeFrameDatagrams: largeFrames * 44 });

describe("meanFrameBytes and superFrames", () => {
  it("divides the tap's bytes by its frames; no frame, no mean", () => {
    expect(meanFrameBytes(tap(4, 6056))).toBe(1514);
    expect(meanFrameBytes(tap(0, 0))).toBeNull();
  });
  it("calls a mean above MTU + 14 super-frames, and one at MTU + 14 not", () => {
    expect(superFrames(plainTap, MTU)).toBe(false);
    expect(superFrames(tap(1, 1515), MTU)).toBe(true);
    expect(superFrames(superTap, MTU)).toBe(true);
    // The same bytes at MTU 9000 are ordinary frames.
    expect(superFrames(tap(1, 9014), 9000)).toBe(false);
    expect(superFrames(tap(0, 0), MTU)).toBe(false);
  });
});

describe("usoVerdict", () => {
  it.each([
    ["plain", { tap: plainTap, udpOffloadDelta: null }, "not-exercised"],
    ["plain", { udpOffloadDelta: null }, "not-exercised"],
    ["gso", { tap: superTap, udpOffloadDelta: null }, "yes"],
    ["gso", { tap: plainTap, udpOffloadDelta: null }, "no"],
    ["gso", { udpOffloadDelta: null }, "unverified"],
    // The capture alone, or NetKVM's counter alone, decide too.
    ["gso", { capture: captured(5), udpOffloadDelta: null }, "yes"],
    ["gso", { capture: captured(0), udpOffloadDelta: null }, "no"],
    ["uso", { udpOffloadDelta: 12 }, "yes"],
    ["uso", { udpOffloadDelta: 0 }, "no"],
    ["uso", { tap: plainTap, udpOffloadDelta: null }, "no"],
    // Super-frames are evidence whoever sent them.
    ["plain", { tap: superTap, udpOffloadDelta: null }, "yes"],
  ] as const)("%s sender, seen %j: %s", (sender, seen, verdict) => {
    expect(usoVerdict(sender, MTU, seen)).toBe(verdict);
  });
});

describe("datagramsPerFrame", () => {
  it("counts what each large frame carried and one per other frame", () => {
    expect(datagramsPerFrame(captured(10), 10)).toBe(44);
    expect(datagramsPerFrame(captured(1), 5)).toBe(48 / 5);
    expect(datagramsPerFrame(captured(0), 0)).toBeNull();
    // A capture that stopped at its bound undercounts the datagrams: no mean rather than a wrong one.
    expect(datagramsPerFrame({ ...captured(10), capped: true }, 30)).toBeNull();
  });
});

describe("cellEvidence", () => {
  it("carries the counters' figures always and the capture's only when it ran", () => {
    expect(cellEvidence("gso", true, MTU, { tap: tap(4, 2 * 64810 + 2 * 1514), capture: captured(2), udpOffloadDelta: null })).toEqual({
      usoRequested: true, totalFrames: 4, tapBytes: 2 * 64810 + 2 * 1514, meanFrameBytes: (2 * 64810 + 2 * 1514) / 4, superFrames: true,
      largeFrames: 2, largestFrame: 64810, datagramsPerFrame: 90 / 4, udpOffloadDelta: null, usoEngaged: "yes",
    });
    expect(cellEvidence("gso", false, MTU, { tap: plainTap, udpOffloadDelta: null })).toEqual({
      usoRequested: false, totalFrames: 1000, tapBytes: 1514000, meanFrameBytes: 1514, superFrames: false, udpOffloadDelta: null, usoEngaged: "no",
    });
    expect(cellEvidence("gso", false, MTU, { udpOffloadDelta: null })).toEqual({ usoRequested: false, udpOffloadDelta: null, usoEngaged: "unverified" });
  });
});
