import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadInputs, parseInput, ReportInputError } from "../../src/report/load";
import { FIXTURES, makeCell } from "./fixtures";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "offload-lab-load-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("parseInput", () => {
  it("reads a stack output, ignoring keys it does not know", () => {
    const [run] = parseInput(JSON.stringify({
      stack: "dev", variant: "mtu9000-uso-on", os: "windows", mtu: 9000, uso: true, fingerprint: { x: 1 }, summary: [],
      cells: [makeCell({ variant: "mtu9000-uso-on", mtu: 9000 })],
    }), "a.json");
    expect(run).toMatchObject({ source: "a.json", stack: "dev", variant: "mtu9000-uso-on", os: "windows", uso: true });
    expect(run.cells).toHaveLength(1);
  });
  it("splits an import-iperf3 array into one run per variant and reads the OS from the name", () => {
    const runs = parseInput(JSON.stringify([
      makeCell({ variant: "linux-a" }), makeCell({ variant: "b" }), makeCell({ variant: "linux-a", repetition: 2 }),
    ]), "x.json");
    expect(runs.map((r) => [r.variant, r.os, r.cells.length, r.stack, r.uso])).toEqual([
      ["linux-a", "linux", 2, null, null],
      ["b", "unknown", 1, null, null],
    ]);
  });
  it("takes uso null from a stack that left USO to the driver", () => {
    const [run] = parseInput(JSON.stringify({ variant: "v", uso: null, cells: [makeCell({ variant: "v" })] }), "n.json");
    expect(run.uso).toBeNull();
  });
  it.each([
    ["not JSON", "{", /n\.json: not JSON/],
    ["neither shape", '{"variant":"v"}', /expected a stack output with "cells"/],
    ["a bad status", JSON.stringify([{ ...makeCell({ variant: "v" }), status: "great" }]), /cell 0 \(udp-1472B-v-r1\): field "status"/],
    ["a string throughput", JSON.stringify([{ ...makeCell({ variant: "v" }), throughputBps: "9e8" }]), /field "throughputBps" must be a number or null, got "9e8"/],
    ["an error that is not text", JSON.stringify([{ ...makeCell({ variant: "v" }), error: { code: 1 } }]), /field "error" must be a string or null/],
    ["missing evidence verdict", JSON.stringify([{ ...makeCell({ variant: "v" }), evidence: { usoRequested: true } }]), /evidence\.usoEngaged/],
  ])("rejects %s, naming the file and the field", (_what, text, message) => {
    expect(() => parseInput(text, "n.json")).toThrow(ReportInputError);
    expect(() => parseInput(text, "n.json")).toThrow(message);
  });
});

describe("loadInputs", () => {
  it("walks folders in sorted order, skipping dot files and non-JSON", () => {
    const dir = path.join(tmp, "walk");
    fs.mkdirSync(path.join(dir, "sub"), { recursive: true });
    fs.writeFileSync(path.join(dir, "b.json"), JSON.stringify([makeCell({ variant: "b" })]));
    fs.writeFileSync(path.join(dir, "sub", "a.json"), JSON.stringify([makeCell({ variant: "a" })]));
    fs.writeFileSync(path.join(dir, ".sweep-state.json"), "{ not results");
    fs.writeFileSync(path.join(dir, "report.md"), "# not results");
    const runs = loadInputs([dir], tmp);
    expect(runs.map((r) => [r.source, r.variant])).toEqual([
      [path.join("walk", "b.json"), "b"],
      [path.join("walk", "sub", "a.json"), "a"],
    ]);
  });
  it("loads the recorded fixtures: four Windows stacks and one imported Linux set", () => {
    const runs = loadInputs([FIXTURES]);
    expect(runs.map((r) => `${r.os}/${r.variant}/${r.cells.length}`)).toEqual([
      "linux/linux-mtu1500-uso-off/3",
      "windows/mtu1500-uso-off/6",
      "windows/mtu1500-uso-on/6",
      "windows/mtu9000-uso-off/6",
      "windows/mtu9000-uso-on/6",
    ]);
  });
  it("names a missing input and refuses no input at all", () => {
    expect(() => loadInputs([path.join(tmp, "nope.json")])).toThrow(/nope\.json: no such file or folder/);
    expect(() => loadInputs([])).toThrow(ReportInputError);
  });
});
