import { describe, expect, it } from "vitest";
import { cellEvidence, datagramsPerFrame, usoVerdict, type TapCounts } from "../../src/results/evidence";

const seen = (largeFrames: number, totalFrames = 100): TapCounts => ({
  largeFrames, largestFrame: largeFrames > 0 ? 64810 : 0, largeFrameDatagrams: largeFrames * 44, totalFrames,
});

describe("usoVerdict", () => {
  it.each([
    ["plain", seen(0), null, "not-exercised"],
    ["plain", undefined, null, "not-exercised"],
    ["gso", seen(5), null, "yes"],
    ["gso", seen(0), null, "no"],
    ["gso", undefined, null, "unverified"],
    ["uso", undefined, 12, "yes"],
    ["uso", undefined, 0, "no"],
    ["uso", seen(0), null, "no"],
    // A frame above MTU + 14 is evidence whoever sent it.
    ["plain", seen(1), null, "yes"],
  ] as const)("%s sender, tap %j, counter %s: %s", (sender, tap, delta, verdict) => {
    expect(usoVerdict(sender, tap, delta)).toBe(verdict);
  });
});

describe("datagramsPerFrame", () => {
  it("counts what each large frame carried and one per other frame", () => {
    expect(datagramsPerFrame({ largeFrames: 10, largestFrame: 64810, largeFrameDatagrams: 440, totalFrames: 10 })).toBe(44);
    expect(datagramsPerFrame({ largeFrames: 1, largestFrame: 64810, largeFrameDatagrams: 44, totalFrames: 5 })).toBe(48 / 5);
    expect(datagramsPerFrame({ largeFrames: 0, largestFrame: 0, largeFrameDatagrams: 0, totalFrames: 0 })).toBeNull();
  });
});

describe("cellEvidence", () => {
  it("carries the tap's counts beside the verdict", () => {
    expect(cellEvidence("gso", true, seen(2, 4), null)).toEqual({
      usoRequested: true, largeFrames: 2, largestFrame: 64810, totalFrames: 4, datagramsPerFrame: 90 / 4, udpOffloadDelta: null, usoEngaged: "yes",
    });
    expect(cellEvidence("gso", false, undefined, null)).toEqual({ usoRequested: false, udpOffloadDelta: null, usoEngaged: "unverified" });
  });
});
