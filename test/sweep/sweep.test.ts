import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { plainOutputs } from "../../src/sweep/automation";
import { sampleOrders } from "../../src/sweep/order";
import { runSweep } from "../../src/sweep/run";
import { readState, STATE_FILE } from "../../src/sweep/state";
import type { SweepStack, SweepWorkspace } from "../../src/sweep/workspace";

const FIXTURES = path.join(__dirname, "..", "fixtures", "report", "stacks");
const STACKS = ["mtu1500-uso-off", "mtu1500-uso-on", "mtu9000-uso-off", "mtu9000-uso-on"];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "offload-lab-sweep-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/**
 * Stands in for the Pulumi CLI: each stack's config holds a runId, `up` "deploys" and records the
 * runId it ran with, `outputs` returns the recorded fixture of that stack, `destroy` tears down.
 */
class FakeWorkspace implements SweepWorkspace {
  readonly calls: string[] = [];
  readonly runIds = new Map<string, string | undefined>();
  readonly deployed = new Set<string>();
  failUp = new Set<string>();
  failDestroy = new Set<string>();

  constructor(initial: Record<string, string | undefined> = {}) {
    for (const [k, v] of Object.entries(initial)) this.runIds.set(k, v);
  }

  async selectStack(name: string): Promise<SweepStack> {
    if (!STACKS.includes(name)) throw new Error(`no stack named '${name}' found`);
    const ws = this;
    return {
      name,
      async getRunId() { return ws.runIds.get(name); },
      async setRunId(runId) { ws.runIds.set(name, runId); ws.calls.push(`config ${name} ${runId ?? "<unset>"}`); },
      async up(onOutput) {
        ws.calls.push(`up ${name} ${ws.runIds.get(name)}`);
        onOutput(`Updating (${name})\n+ 12 created\n`);
        if (ws.failUp.has(name)) throw new Error(`up of ${name} failed: guest agent timeout`);
        ws.deployed.add(name);
      },
      async outputs() {
        if (!ws.deployed.has(name)) return {};
        return { ...JSON.parse(fs.readFileSync(path.join(FIXTURES, `${name}.json`), "utf8")), runId: ws.runIds.get(name) };
      },
      async destroy() {
        ws.calls.push(`destroy ${name}`);
        if (ws.failDestroy.has(name)) throw new Error(`destroy of ${name} failed`);
        ws.deployed.delete(name);
      },
    };
  }
}

function dir(name: string): string {
  return path.join(tmp, name);
}

describe("runSweep", () => {
  it("ups, saves outputs, restores config and destroys each stack in turn, then writes the report", async () => {
    const ws = new FakeWorkspace({ "mtu1500-uso-on": "manual-7" });
    const log: string[] = [];
    const out = dir("plain");
    const r = await runSweep({ stacks: STACKS.slice(0, 2), outDir: out, runIdPrefix: "t" }, ws, (l) => log.push(l));
    expect(r.exitCode).toBe(0);
    expect(ws.calls).toEqual([
      "config mtu1500-uso-off t-s1", "up mtu1500-uso-off t-s1", "config mtu1500-uso-off <unset>", "destroy mtu1500-uso-off",
      "config mtu1500-uso-on t-s1", "up mtu1500-uso-on t-s1", "config mtu1500-uso-on manual-7", "destroy mtu1500-uso-on",
    ]);
    expect(ws.deployed.size).toBe(0);
    const saved = JSON.parse(fs.readFileSync(path.join(out, "outputs", "s1-mtu1500-uso-on.json"), "utf8"));
    expect(saved).toMatchObject({ variant: "mtu1500-uso-on", runId: "t-s1" });
    expect(fs.readFileSync(path.join(out, "report.md"), "utf8")).toContain("mtu1500-uso-off → mtu1500-uso-on");
    expect(r.files.map((f) => path.relative(out, f))).toEqual([
      "outputs/s1-mtu1500-uso-off.json", "outputs/s1-mtu1500-uso-on.json", STATE_FILE, "report.md", "results.csv", "report.html",
    ]);
    expect(log).toContain("[2/2] sample 1 mtu1500-uso-on: up (runId t-s1)");
    expect(log).toContain("mtu1500-uso-on │ + 12 created");
    expect(readState(out)!.runs.every((run) => run.phase === "done")).toBe(true);
  });

  it("--keep leaves every stack up", async () => {
    const ws = new FakeWorkspace();
    const r = await runSweep({ stacks: STACKS, outDir: dir("keep"), keep: true, runIdPrefix: "k" }, ws, () => {});
    expect(r.exitCode).toBe(0);
    expect(ws.calls.filter((c) => c.startsWith("destroy"))).toEqual([]);
    expect([...ws.deployed].sort()).toEqual(STACKS);
  });

  it("runs each stack once per sample with its own runId, and merges the samples in the report", async () => {
    const ws = new FakeWorkspace();
    const out = dir("samples");
    const r = await runSweep({ stacks: STACKS.slice(0, 2), outDir: out, samples: 3, runIdPrefix: "m" }, ws, () => {});
    expect(r.exitCode).toBe(0);
    expect(ws.calls.filter((c) => c.startsWith("up"))).toEqual([
      "up mtu1500-uso-off m-s1", "up mtu1500-uso-on m-s1", "up mtu1500-uso-off m-s2", "up mtu1500-uso-on m-s2",
      "up mtu1500-uso-off m-s3", "up mtu1500-uso-on m-s3",
    ]);
    const csv = fs.readFileSync(path.join(out, "results.csv"), "utf8").trim().split("\r\n");
    expect(csv).toHaveLength(1 + 3 * 12);
    expect(fs.readFileSync(path.join(out, "report.md"), "utf8")).toContain("| mtu1500-uso-off | windows | 1500 | off | uso | 1472 | 1G | 9/9 |");
  });

  it("--shuffle orders each sample from the recorded seed, the same way every time", async () => {
    const a = new FakeWorkspace();
    const b = new FakeWorkspace();
    await runSweep({ stacks: STACKS, outDir: dir("shuffle-a"), samples: 3, shuffle: true, seed: 42, runIdPrefix: "s" }, a, () => {});
    await runSweep({ stacks: STACKS, outDir: dir("shuffle-b"), samples: 3, shuffle: true, seed: 42, runIdPrefix: "s" }, b, () => {});
    const ups = (ws: FakeWorkspace): string[] => ws.calls.filter((c) => c.startsWith("up")).map((c) => c.split(" ")[1]!);
    expect(ups(a)).toEqual(ups(b));
    const state = readState(dir("shuffle-a"))!;
    expect(state.seed).toBe(42);
    expect(state.runs.map((r) => r.stack)).toEqual(ups(a));
    const perSample = [0, 1, 2].map((s) => ups(a).slice(s * 4, s * 4 + 4));
    for (const order of perSample) expect([...order].sort()).toEqual(STACKS);
    expect(perSample).toEqual(sampleOrders(STACKS, 3, true, 42));
    // Over 3 samples of 4 stacks, at least one order must differ from the listed one.
    expect(perSample.some((o) => o.join() !== STACKS.join())).toBe(true);
    const other = sampleOrders(STACKS, 3, true, 43);
    expect(other).not.toEqual(perSample);
  });

  it("stops at a failed up, then resumes without redoing finished stacks", async () => {
    const out = dir("resume");
    const ws = new FakeWorkspace();
    ws.failUp.add("mtu9000-uso-off");
    const first = await runSweep({ stacks: STACKS, outDir: out, runIdPrefix: "r" }, ws, () => {});
    expect(first.exitCode).toBe(3);
    expect(first.messages[0]).toBe("[3/4] sample 1 mtu9000-uso-off: up failed: up of mtu9000-uso-off failed: guest agent timeout");
    expect(ws.calls).toContain("config mtu9000-uso-off <unset>");
    expect(ws.calls.some((c) => c.startsWith("up mtu9000-uso-on"))).toBe(false);
    const state = readState(out)!;
    expect(state.runs.map((r) => [r.stack, r.phase, r.attempts])).toEqual([
      ["mtu1500-uso-off", "done", 1], ["mtu1500-uso-on", "done", 1], ["mtu9000-uso-off", "pending", 1], ["mtu9000-uso-on", "pending", 0],
    ]);
    expect(fs.existsSync(path.join(out, "report.md"))).toBe(false);

    ws.failUp.clear();
    ws.calls.length = 0;
    const second = await runSweep({ stacks: STACKS, outDir: out }, ws, () => {});
    expect(second.exitCode).toBe(0);
    expect(ws.calls.filter((c) => c.startsWith("up"))).toEqual(["up mtu9000-uso-off r-s1", "up mtu9000-uso-on r-s1"]);
    expect(readState(out)!.runs.map((r) => r.attempts)).toEqual([1, 1, 2, 1]);
    expect(fs.readFileSync(path.join(out, "results.csv"), "utf8").trim().split("\r\n")).toHaveLength(1 + 24);
  });

  it("after a failed destroy, resumes by destroying only", async () => {
    const out = dir("destroy");
    const ws = new FakeWorkspace();
    ws.failDestroy.add("mtu1500-uso-off");
    const first = await runSweep({ stacks: STACKS.slice(0, 2), outDir: out, runIdPrefix: "d" }, ws, () => {});
    expect(first.exitCode).toBe(3);
    expect(first.messages[0]).toMatch(/destroy failed/);
    expect(readState(out)!.runs[0]!.phase).toBe("measured");
    ws.failDestroy.clear();
    ws.calls.length = 0;
    const second = await runSweep({ stacks: STACKS.slice(0, 2), outDir: out }, ws, () => {});
    expect(second.exitCode).toBe(0);
    expect(ws.calls.slice(0, 2)).toEqual(["destroy mtu1500-uso-off", "config mtu1500-uso-on d-s1"]);
  });

  it("restores a stack's own runId even when resumed after the sweep had changed it", async () => {
    const out = dir("restore");
    const ws = new FakeWorkspace({ "mtu1500-uso-off": "mine" });
    ws.failUp.add("mtu1500-uso-off");
    await runSweep({ stacks: ["mtu1500-uso-off"], outDir: out, runIdPrefix: "x" }, ws, () => {});
    expect(ws.runIds.get("mtu1500-uso-off")).toBe("mine");
    // As if the process had died mid-run, leaving the sweep's runId in the stack file.
    ws.runIds.set("mtu1500-uso-off", "x-s1");
    ws.failUp.clear();
    await runSweep({ stacks: ["mtu1500-uso-off"], outDir: out }, ws, () => {});
    expect(ws.runIds.get("mtu1500-uso-off")).toBe("mine");
  });

  it("refuses to resume a different sweep, and bad options", async () => {
    const out = dir("other");
    await runSweep({ stacks: STACKS.slice(0, 1), outDir: out }, new FakeWorkspace(), () => {});
    const r = await runSweep({ stacks: STACKS.slice(0, 2), outDir: out }, new FakeWorkspace(), () => {});
    expect(r.exitCode).toBe(2);
    expect(r.messages[0]).toMatch(/records another sweep \(stacks mtu1500-uso-off\)/);
    const s = await runSweep({ stacks: STACKS.slice(0, 1), outDir: out, samples: 2 }, new FakeWorkspace(), () => {});
    expect(s.messages[0]).toMatch(/--samples 1/);
    for (const bad of [{ stacks: [] }, { stacks: ["a", "a"] }, { stacks: ["a b;rm"] }, { stacks: ["a"], samples: 0 }]) {
      expect((await runSweep({ outDir: dir("bad"), ...bad }, new FakeWorkspace(), () => {})).exitCode).toBe(2);
    }
  });

  it("passes the report's --fail-if exit code through", async () => {
    const r = await runSweep({ stacks: STACKS, outDir: dir("gate"), failIf: ["throughput-rise:uso>1%"], runIdPrefix: "g" }, new FakeWorkspace(), () => {});
    expect(r.exitCode).toBe(1);
    expect(r.messages.some((m) => m.endsWith("FAIL"))).toBe(true);
  });
});

describe("plainOutputs", () => {
  it("gives values as `pulumi stack output --json` does, secrets masked", () => {
    expect(plainOutputs({ cells: { value: [1], secret: false }, key: { value: "s3cr3t", secret: true } })).toEqual({ cells: [1], key: "[secret]" });
  });
});
