import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { analyze } from "../../src/report/compare";
import { renderCsv } from "../../src/report/csv";
import { parseInput } from "../../src/report/load";
import { reportModel } from "../../src/report/model";
import { FRAGMENTED_TEXT, NOT_EXERCISED_TEXT } from "../../src/report/verdict";

// The report on what an in-lab arms lab really produced: the stack output derived
// (test/fixtures/report-recorded/derive.ts) from the sandbox-mtu9000-uso-arms `pulumi up` of
// test/engine/arms.test.ts. One run holds both arms; the report must pair them by `pair` and take
// each cell's arm from `arm`, exactly as it does for two per-variant stacks.
const FILE = path.join(__dirname, "..", "fixtures", "report-recorded", "sandbox-mtu9000-uso-arms.json");

describe("the report on a recorded in-lab arms run (sandbox-mtu9000-uso-arms)", () => {
  const runs = parseInput(fs.readFileSync(FILE, "utf8"), "arms.json");
  const model = reportModel(analyze(runs));

  it("reads one run whose factors leave USO to each cell", () => {
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ variant: "mtu9000-uso-arms", uso: null, armFromCells: false });
  });

  it("makes one paired row per measure for gso at 8972 B, engaged, and says what the other rows cannot show", () => {
    const uso = model.verdicts.filter((v) => v.kind === "uso");
    expect(uso.map((v) => [v.payloadBytes, v.sender, v.bitrate, v.measure]).sort()).toEqual([
      [8972, "gso", "0", "throughput"],
      [8972, "gso", "100M", "cpu"],
    ].sort());
    for (const v of uso) {
      expect(v.mtu).toBe(9000);
      expect(v.ratio.method, v.key).toBe("paired");
      expect(v.ratio.pairs, v.key).toBe(2);
      expect(v.engaged.verdict, v.key).toBe("yes");
      expect(v.off.every((r) => r.cell.arm === "off") && v.on.every((r) => r.cell.arm === "on"), v.key).toBe(true);
    }
    const others = model.verdicts.filter((v) => v.kind !== "uso");
    expect(others.length).toBeGreaterThan(0);
    for (const v of others) {
      if (v.payloadBytes === 65507) expect(v.verdict, v.key).toBe(FRAGMENTED_TEXT);
      else expect([v.sender, v.verdict], v.key).toEqual(["plain", NOT_EXERCISED_TEXT]);
    }
  });

  it("writes each cell's arm, pair, counters and receiver into results.csv", () => {
    const [head, ...lines] = renderCsv(model).trimEnd().split("\r\n");
    const cols = head!.split(",");
    const at = (line: string, name: string) => line.split(",")[cols.indexOf(name)];
    const gso = lines.filter((l) => at(l, "sender") === "gso");
    expect(gso.length).toBeGreaterThan(0);
    for (const l of gso) {
      expect(["off", "on"]).toContain(at(l, "arm"));
      expect(Number(at(l, "pair"))).toBeGreaterThan(0);
      expect(at(l, "super_frames")).toBe(at(l, "arm") === "on" ? "true" : "false");
      expect(Number(at(l, "socket_buffer_bytes"))).toBeGreaterThan(0);
    }
  });
});
