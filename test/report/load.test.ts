import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadInputs, parseInput, ReportInputError, type LoadedRun } from "../../src/report/load";
import { FIXTURES, makeCell } from "./fixtures";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "offload-lab-load-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const one = (runs: LoadedRun[]): LoadedRun => {
  expect(runs).toHaveLength(1);
  return runs[0] as LoadedRun;
};

describe("parseInput", () => {
  it("reads a stack output, ignoring keys it does not know", () => {
    const run = one(parseInput(JSON.stringify({
      stack: "dev", variant: "mtu9000-uso-on", os: "windows", mtu: 9000, uso: true, fingerprint: { x: 1 }, summary: [],
      cells: [makeCell({ variant: "mtu9000-uso-on", mtu: 9000 })],
    }), "a.json"));
    expect(run).toMatchObject({ source: "a.json", stack: "dev", variant: "mtu9000-uso-on", os: "windows", uso: true, host: null, armFromCells: false });
    expect(run.cells).toHaveLength(1);
  });
  it("takes the factors from `factors` and the host from `host.identity`, never from the variant's name", () => {
    const run = one(parseInput(JSON.stringify({
      variant: "windows-uso-off-on-linux", os: "windows", uso: false,
      factors: { os: "linux", mtu: 1500, uso: true, arms: true, host: null },
      host: { identity: { name: "kvm-07", address: null, kernel: "6.12", qemu: "10.0.2", libvirt: "11.3.0", cpuModel: null } },
      cells: [makeCell({ variant: "x" })],
    }), "f.json"));
    expect(run).toMatchObject({ os: "linux", uso: true, host: "kvm-07" });
    expect(one(parseInput(JSON.stringify({ factors: { os: "linux", mtu: 1500, uso: null, arms: false, host: "h1" }, cells: [makeCell({ variant: "v" })] }), "g.json")))
      .toMatchObject({ host: "h1", uso: null, armFromCells: false });
  });
  it("reads an import from before factors (an array) as one run per variant, OS unknown, the arm from each cell", () => {
    const runs = parseInput(JSON.stringify([
      makeCell({ variant: "linux-a" }), makeCell({ variant: "b" }), makeCell({ variant: "linux-a", repetition: 2 }),
    ]), "x.json");
    expect(runs.map((r) => [r.variant, r.os, r.cells.length, r.stack, r.uso, r.armFromCells])).toEqual([
      ["linux-a", "unknown", 2, null, null, true],
      ["b", "unknown", 1, null, null, true],
    ]);
  });
  it("takes uso null from a stack that left USO to the driver", () => {
    const run = one(parseInput(JSON.stringify({ variant: "v", uso: null, cells: [makeCell({ variant: "v" })] }), "n.json"));
    expect(run.uso).toBeNull();
  });
  it("tells raw iperf3 output to be imported first", () => {
    const raw = fs.readFileSync(path.join(__dirname, "..", "fixtures", "iperf3", "udp-1472B-mtu1500.json"), "utf8");
    expect(() => parseInput(raw, "run.json")).toThrow(/^run\.json: iperf3 -J output, not results: import it first, e\.g\.\noffload-lab import-iperf3 run\.json /);
    const busy = fs.readFileSync(path.join(__dirname, "..", "fixtures", "iperf3", "busy.json"), "utf8");
    expect(() => parseInput(busy, "busy.json")).toThrow(/iperf3 -J output, not results/);
  });
  it.each([
    ["not JSON", "{", /n\.json: not JSON/],
    ["neither shape", '{"variant":"v"}', /expected a stack output or an import-iperf3 result \(an object with "cells"\)/],
    ["a bad status", JSON.stringify([{ ...makeCell({ variant: "v" }), status: "great" }]), /cell 0 \(udp-1472B-v-r1\): field "status"/],
    ["a string throughput", JSON.stringify([{ ...makeCell({ variant: "v" }), throughputBps: "9e8" }]), /field "throughputBps" must be a number or null, got "9e8"/],
    ["an error that is not text", JSON.stringify([{ ...makeCell({ variant: "v" }), error: { code: 1 } }]), /field "error" must be a string or null/],
    ["missing evidence verdict", JSON.stringify([{ ...makeCell({ variant: "v" }), evidence: { usoRequested: true } }]), /evidence\.usoEngaged/],
    ["a bad arm", JSON.stringify([{ ...makeCell({ variant: "v" }), arm: "maybe" }]), /field "arm" must be absent, "off" or "on"/],
    ["a pair of 0", JSON.stringify([{ ...makeCell({ variant: "v" }), pair: 0 }]), /field "pair" must be absent or a whole number from 1/],
    ["receiver counters as text", JSON.stringify([{ ...makeCell({ variant: "v" }), receiver: { socketDrops: "3" } }]), /field "receiver" must be absent or an object/],
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
    const { runs, notes } = loadInputs([dir], tmp);
    expect(runs.map((r) => [r.source, r.variant])).toEqual([
      [path.join("walk", "b.json"), "b"],
      [path.join("walk", "sub", "a.json"), "a"],
    ]);
    expect(notes).toEqual([]);
  });
  it("loads the report fixtures: four Windows stacks and one imported Linux set", () => {
    const { runs } = loadInputs([FIXTURES]);
    expect(runs.map((r) => `${r.os}/${r.variant}/${r.cells.length}`)).toEqual([
      "linux/linux-mtu1500-uso-off/3",
      "windows/mtu1500-uso-off/6",
      "windows/mtu1500-uso-on/6",
      "windows/mtu9000-uso-off/6",
      "windows/mtu9000-uso-on/6",
    ]);
  });
  it("reads a folder and a file in it once, and a copy under another name once, and says so", () => {
    const dir = path.join(tmp, "overlap");
    fs.mkdirSync(dir, { recursive: true });
    const text = JSON.stringify([makeCell({ variant: "v" })]);
    fs.writeFileSync(path.join(dir, "x.json"), text);
    fs.writeFileSync(path.join(dir, "y.json"), text);
    const { runs, notes } = loadInputs(["overlap", path.join("overlap", "x.json")], tmp);
    expect(runs.map((r) => r.source)).toEqual([path.join("overlap", "x.json")]);
    expect(notes).toEqual([
      `${path.join("overlap", "y.json")}: the same content as ${path.join("overlap", "x.json")}: counted once`,
      `${path.join("overlap", "x.json")}: given more than once (a folder and a file in it, or twice): read once`,
    ]);
  });
  it("names a missing input, refuses no input at all, and gives a hint for a folder with no results", () => {
    expect(() => loadInputs([path.join(tmp, "nope.json")], tmp)).toThrow(/^nope\.json: no such file or folder/);
    expect(() => loadInputs([])).toThrow(ReportInputError);
    fs.mkdirSync(path.join(tmp, "empty"), { recursive: true });
    fs.writeFileSync(path.join(tmp, "empty", "notes.txt"), "");
    expect(() => loadInputs(["empty"], tmp)).toThrow(/^no results in empty: no \*\.json file there\nGive stack outputs \(pulumi stack output --json > x\.json\), import-iperf3 results, or a sweep's output folder\.$/);
  });
});
