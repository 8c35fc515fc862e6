import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import type { CellResult } from "../../src/results/cell";
import { importIperf3 } from "../../src/results/importIperf3";
import { statistic, summarize } from "../../src/results/summary";

describe("statistic", () => {
  it("computes mean, sample standard deviation, min, max and n", () => {
    // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sum of squares 32, sample variance 32/7.
    const s = statistic([2, 4, 4, 4, 5, 5, 7, 9])!;
    expect(s.mean).toBe(5);
    expect(s.stddev).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect([s.min, s.max, s.n]).toEqual([2, 9, 8]);
    expect(statistic([3])).toEqual({ mean: 3, stddev: 0, min: 3, max: 3, n: 1 });
    expect(statistic([])).toBeNull();
  });
});

describe("summarize", () => {
  const FIXTURES = path.join(__dirname, "..", "fixtures", "iperf3");
  const f = (name: string) => path.join(FIXTURES, `${name}.json`);
  // Every one of these files says its payload, so each imported cell is a full CellResult.
  const cells = importIperf3(
    [f("udp-1472B-mtu1500"), f("udp-1472B-mtu1500-textserver"), f("udp-1472B-mtu1500-stalled"), f("udp-512B-mtu1500"), f("udp-1472B-mtu1500-iperf3.22")]
      .map((file) => ({ file, text: fs.readFileSync(file, "utf8") })),
    { mtu: 1500, variant: "mtu1500-uso-off" },
  ).imported.map((i) => i.cell as CellResult);

  it("groups by payload (ascending) and bitrate, and lets only ok cells into the statistics", () => {
    const all = summarize(cells);
    // -b 200M for three 1472-byte runs, -b 100M for the stalled one: separate groups.
    expect(all.map((s) => [s.payloadBytes, s.bitrate, s.counts])).toEqual([
      [512, "50M", { ok: 1, failed: 0, invalid: 0 }],
      [1472, "200M", { ok: 3, failed: 0, invalid: 0 }],
      [1472, "100M", { ok: 0, failed: 0, invalid: 1 }],
    ]);
    const ok = cells.filter((c) => c.payloadBytes === 1472 && c.status === "ok");
    const t = all[1]!.throughputBps!;
    expect(t.n).toBe(3);
    expect(t.mean).toBeCloseTo(ok.reduce((a, c) => a + c.throughputBps!, 0) / 3, 6);
    expect(t.min).toBe(Math.min(...ok.map((c) => c.throughputBps!)));
    expect(t.max).toBe(Math.max(...ok.map((c) => c.throughputBps!)));
    expect(all[1]!.guestCpuPercent?.n).toBe(3);
    expect(all[1]!.jitterMs?.n).toBe(3);
    // The stalled run has numbers, but an invalid cell does not enter the statistics.
    expect(cells.find((c) => c.status === "invalid")!.throughputBps).not.toBeNull();
    expect(all[2]!.throughputBps).toBeNull();
  });

  it("counts failed cells without letting their nulls into the numbers", () => {
    const failed: CellResult = { ...cells[0]!, status: "failed", error: "x", throughputBps: null, lossPercent: null };
    const groups = summarize([failed, cells[0]!]);
    expect(groups).toHaveLength(1);
    const only = groups[0];
    expect(only!.counts).toEqual({ ok: 1, failed: 1, invalid: 0 });
    expect(only!.throughputBps!.n).toBe(1);
    expect(only!.lossPercent!.mean).toBe(cells[0]!.lossPercent);
  });

  it("keeps senders apart, and reads a cell without one as plain", () => {
    const gso: CellResult = { ...cells[0]!, sender: "gso", throughputBps: 1 };
    const { sender: _old, ...legacy } = cells[0]!;
    const groups = summarize([legacy, gso, cells[0]!]);
    expect(groups.map((g) => [g.sender, g.counts.ok])).toEqual([["plain", 2], ["gso", 1]]);
  });
});
