import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PassphraseError } from "../../src/engine/passphrase";
import { plainOutputs } from "../../src/sweep/automation";
import { sampleOrders } from "../../src/sweep/order";
import { runSweep, type SweepOptions } from "../../src/sweep/run";
import { parseShard, shardOf } from "../../src/sweep/shard";
import { readState, STATE_FILE, writeState } from "../../src/sweep/state";
import { writeReport } from "../../src/report/write";
import { FakeWorkspace, fakeHost, RecordingListener } from "../support/fakeSweepWorkspace";

const STACKS = ["mtu1500-uso-off", "mtu1500-uso-on", "mtu9000-uso-off", "mtu9000-uso-on"];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "offload-lab-sweep-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function dir(name: string): string {
  return path.join(tmp, name);
}

function sweep(opts: Partial<SweepOptions> & { outDir: string }, ws: FakeWorkspace, listener = new RecordingListener()) {
  return runSweep({ stacks: STACKS.slice(0, 2), ...opts }, ws, listener);
}

const output = (out: string, file: string) => JSON.parse(fs.readFileSync(path.join(out, file), "utf8")) as Record<string, unknown> & { sweep: { host: { name: string } | null; startedAt: string; measuredAt: string } };

/** The runs a report holds: its results.csv's distinct sources (one per output file). */
function reportRuns(out: string): string[] {
  const rows = fs.readFileSync(path.join(out, "results.csv"), "utf8").trim().split("\r\n").slice(1);
  return [...new Set(rows.map((r) => path.basename(r.split(",")[0]!)))].sort();
}

describe("runSweep on each stack's own host", () => {
  it("ups, saves outputs and destroys each stack in turn, then writes the report", async () => {
    const ws = new FakeWorkspace();
    const listener = new RecordingListener();
    const out = dir("plain");
    const r = await sweep({ outDir: out, runIdPrefix: "t" }, ws, listener);
    expect(r.exitCode).toBe(0);
    expect(ws.calls).toEqual(["up mtu1500-uso-off t-s1", "destroy mtu1500-uso-off", "up mtu1500-uso-on t-s1", "destroy mtu1500-uso-on"]);
    expect(ws.deployed.size).toBe(0);
    const saved = output(out, "outputs/s1-mtu1500-uso-on.json");
    expect(saved).toMatchObject({ variant: "mtu1500-uso-on", runId: "t-s1", sweep: { host: null, sample: 1, runId: "t-s1", attempt: 1 } });
    expect(fs.readFileSync(path.join(out, "report.md"), "utf8")).toContain("mtu1500-uso-off → mtu1500-uso-on");
    expect(r.files.map((f) => path.relative(out, f))).toEqual([
      "outputs/s1-mtu1500-uso-off.json", "outputs/s1-mtu1500-uso-on.json", STATE_FILE, "report.md", "results.csv", "report.html",
    ]);
    expect(listener.phases).toEqual([
      "start [1/2] s1 mtu1500-uso-off up", "end [1/2] s1 mtu1500-uso-off up", "start [1/2] s1 mtu1500-uso-off destroy", "end [1/2] s1 mtu1500-uso-off destroy",
      "start [2/2] s1 mtu1500-uso-on up", "end [2/2] s1 mtu1500-uso-on up", "start [2/2] s1 mtu1500-uso-on destroy", "end [2/2] s1 mtu1500-uso-on destroy",
    ]);
    expect(listener.engineLines).toContain("mtu1500-uso-on │ + 17 created");
    expect(listener.plans[0]).toEqual({ remaining: { up: 2, destroy: 2 }, workers: 1 });
    expect(readState(out)!.runs.every((run) => run.phase === "done" && run.endedAt !== null)).toBe(true);
  });

  it("--keep leaves every stack up", async () => {
    const ws = new FakeWorkspace();
    const r = await runSweep({ stacks: STACKS, outDir: dir("keep"), keep: true, runIdPrefix: "k" }, ws, new RecordingListener());
    expect(r.exitCode).toBe(0);
    expect(ws.calls.filter((c) => c.startsWith("destroy"))).toEqual([]);
    expect([...ws.deployed.keys()].sort()).toEqual(STACKS);
  });

  it("runs each stack once per sample with its own runId, and merges the samples in the report", async () => {
    const ws = new FakeWorkspace();
    const out = dir("samples");
    const r = await sweep({ outDir: out, samples: 3, runIdPrefix: "m" }, ws);
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
    await runSweep({ stacks: STACKS, outDir: dir("shuffle-a"), samples: 3, shuffle: true, seed: 42, runIdPrefix: "s" }, a, new RecordingListener());
    await runSweep({ stacks: STACKS, outDir: dir("shuffle-b"), samples: 3, shuffle: true, seed: 42, runIdPrefix: "s" }, b, new RecordingListener());
    const ups = (ws: FakeWorkspace): string[] => ws.calls.filter((c) => c.startsWith("up")).map((c) => c.split(" ")[1]!);
    expect(ups(a)).toEqual(ups(b));
    const state = readState(dir("shuffle-a"))!;
    expect(state.seed).toBe(42);
    expect(state.runs.map((r) => r.stack)).toEqual(ups(a));
    const perSample = [0, 1, 2].map((s) => ups(a).slice(s * 4, s * 4 + 4));
    for (const order of perSample) expect([...order].sort()).toEqual(STACKS);
    expect(perSample).toEqual(sampleOrders(STACKS, 3, true, 42));
    expect(perSample.some((o) => o.join() !== STACKS.join())).toBe(true);
    expect(sampleOrders(STACKS, 3, true, 43)).not.toEqual(perSample);
  });

  it("stops at a failed up, leaving that stack as it is; resumed, it ups that stack again in place and goes on", async () => {
    const out = dir("resume");
    const ws = new FakeWorkspace();
    ws.failUp.add("mtu9000-uso-off");
    const first = await runSweep({ stacks: STACKS, outDir: out, runIdPrefix: "r" }, ws, new RecordingListener());
    expect(first.exitCode).toBe(3);
    expect(first.messages[0]).toBe("[3/4] s1 mtu9000-uso-off: failed: error: update failed");
    expect(first.messages).toContain("left up: mtu9000-uso-off (its up failed: error: update failed)");
    expect(ws.calls).not.toContain("destroy mtu9000-uso-off");
    expect(ws.calls.some((c) => c.startsWith("up mtu9000-uso-on"))).toBe(false);
    const state = readState(out)!;
    expect(state.runs.map((r) => [r.stack, r.phase, r.attempts])).toEqual([
      ["mtu1500-uso-off", "done", 1], ["mtu1500-uso-on", "done", 1], ["mtu9000-uso-off", "pending", 1], ["mtu9000-uso-on", "pending", 0],
    ]);
    expect(fs.existsSync(path.join(out, "report.md"))).toBe(false);

    ws.failUp.clear();
    ws.calls.length = 0;
    const listener = new RecordingListener();
    const second = await runSweep({ stacks: STACKS, outDir: out }, ws, listener);
    expect(second.exitCode).toBe(0);
    expect(listener.notes[0]).toBe("sweep: resuming, 2 of 4 runs done (4 stacks × 1 samples), each on its own host, one at a time");
    expect(ws.calls).toEqual(["up mtu9000-uso-off r-s1", "destroy mtu9000-uso-off", "up mtu9000-uso-on r-s1", "destroy mtu9000-uso-on"]);
    expect(readState(out)!.runs.map((r) => r.attempts)).toEqual([1, 1, 2, 1]);
    expect(readState(out)!.leftovers).toEqual([]);
    expect(fs.readFileSync(path.join(out, "results.csv"), "utf8").trim().split("\r\n")).toHaveLength(1 + 24);
  });

  it("after a failed destroy, resumes by destroying only", async () => {
    const out = dir("destroy");
    const ws = new FakeWorkspace();
    ws.failDestroy.add("mtu1500-uso-off");
    const first = await sweep({ outDir: out, runIdPrefix: "d" }, ws);
    expect(first.exitCode).toBe(3);
    expect(first.messages[0]).toMatch(/^\[1\/2\] s1 mtu1500-uso-off: measured, destroy owed: destroy failed: destroy of mtu1500-uso-off failed/);
    expect(readState(out)!.runs[0]!.phase).toBe("measured");
    ws.failDestroy.clear();
    ws.calls.length = 0;
    const second = await sweep({ outDir: out }, ws);
    expect(second.exitCode).toBe(0);
    expect(ws.calls).toEqual(["destroy mtu1500-uso-off", "up mtu1500-uso-on d-s1", "destroy mtu1500-uso-on"]);
  });

  it("a sweep killed during an up finds its run marked active and ups it again, its stack first when on another host", async () => {
    const out = dir("killed");
    const ws = new FakeWorkspace();
    await sweep({ outDir: out, runIdPrefix: "x" }, ws);
    // As the state is when the process dies mid-up: the attempt counted, still active.
    const state = readState(out)!;
    Object.assign(state.runs[1]!, { phase: "pending", active: true, host: "b", measuredAt: null, endedAt: null });
    writeState(out, state);
    ws.calls.length = 0;
    const r = await sweep({ outDir: out, hosts: [fakeHost("a")] }, ws);
    expect(r.exitCode).toBe(0);
    // Its stack on b may be partly up, but b is not in this pool: it stays a leftover, named.
    expect(ws.calls).toEqual(["probe a", "up mtu1500-uso-on.a x-s1", "destroy mtu1500-uso-on.a"]);
    expect(readState(out)!.leftovers).toEqual([
      { engineStack: "mtu1500-uso-on.b", stack: "mtu1500-uso-on", host: "b", reason: "the sweep stopped during its up", killedDuringUpdate: true },
    ]);
    ws.calls.length = 0;
    // Back on b: the killed CLI's lock on that stack is dropped before its destroy.
    const again = await sweep({ outDir: out, hosts: [fakeHost("b")] }, ws);
    expect(again.exitCode).toBe(0);
    expect(ws.calls).toEqual(["probe b", "unlock mtu1500-uso-on.b", "destroy mtu1500-uso-on.b"]);
    expect(readState(out)!.leftovers).toEqual([]);
  });

  it("a run killed during its up, resumed on the same host, unlocks its stack and ups it in place", async () => {
    const out = dir("killed-same-host");
    const ws = new FakeWorkspace();
    await sweep({ outDir: out, hosts: [fakeHost("a")], runIdPrefix: "y" }, ws);
    const state = readState(out)!;
    Object.assign(state.runs[0]!, { phase: "pending", active: true, measuredAt: null, endedAt: null });
    writeState(out, state);
    ws.calls.length = 0;
    const r = await sweep({ outDir: out, hosts: [fakeHost("a")] }, ws);
    expect(r.exitCode).toBe(0);
    expect(ws.calls).toEqual(["probe a", "unlock mtu1500-uso-off.a", "up mtu1500-uso-off.a y-s1", "destroy mtu1500-uso-off.a"]);
  });

  it("refuses to resume a different sweep, and bad options", async () => {
    const out = dir("other");
    await runSweep({ stacks: STACKS.slice(0, 1), outDir: out }, new FakeWorkspace(), new RecordingListener());
    const r = await runSweep({ stacks: STACKS.slice(0, 2), outDir: out }, new FakeWorkspace(), new RecordingListener());
    expect(r.exitCode).toBe(2);
    expect(r.messages[0]).toMatch(/records another sweep \(stacks mtu1500-uso-off\)/);
    const s = await runSweep({ stacks: STACKS.slice(0, 1), outDir: out, samples: 2 }, new FakeWorkspace(), new RecordingListener());
    expect(s.messages[0]).toMatch(/--samples 1/);
    const sh = await runSweep({ stacks: STACKS.slice(0, 1), outDir: out, shard: { index: 1, count: 2 } }, new FakeWorkspace(), new RecordingListener());
    expect(sh.messages[0]).toMatch(/records another sweep \(no --shard\)/);
    for (const bad of [{ stacks: [] }, { stacks: ["a", "a"] }, { stacks: ["a b;rm"] }, { stacks: ["a"], samples: 0 }, { stacks: ["a"], shuffle: true, shard: { index: 1, count: 2 } }]) {
      expect((await runSweep({ outDir: dir("bad"), ...bad }, new FakeWorkspace(), new RecordingListener())).exitCode).toBe(2);
    }
  });

  it("passes the report's --fail-if exit code through", async () => {
    const r = await runSweep({ stacks: STACKS, outDir: dir("gate"), failIf: ["throughput-rise:uso>1%"], runIdPrefix: "g" }, new FakeWorkspace(), new RecordingListener());
    expect(r.exitCode).toBe(1);
    expect(r.messages.some((m) => m.endsWith("FAIL"))).toBe(true);
  });

  it("stops every host at a wrong passphrase: the user's to fix, not a host's failure", async () => {
    const ws = new FakeWorkspace();
    ws.select = async () => {
      throw new PassphraseError("the passphrase from PULUMI_CONFIG_PASSPHRASE does not open the secrets of stack x");
    };
    await expect(sweep({ outDir: dir("passphrase"), hosts: [fakeHost("a"), fakeHost("b")] }, ws)).rejects.toThrow(PassphraseError);
    expect(readState(dir("passphrase"))!.runs.map((r) => r.phase)).toEqual(["pending", "pending"]);
  });
});

describe("runSweep over a pool of hosts", () => {
  it("runs stack × sample on free hosts concurrently, one lab per host; every output names its host", async () => {
    const ws = new FakeWorkspace(40);
    const listener = new RecordingListener();
    const out = dir("pool");
    const hosts = [fakeHost("kvm-a"), fakeHost("kvm-b")];
    const r = await sweep({ outDir: out, samples: 2, hosts, runIdPrefix: "p" }, ws, listener);
    expect(r.exitCode).toBe(0);
    expect(listener.notes[0]).toBe("sweep: 4 runs (2 stacks × 2 samples), on 2 hosts (kvm-a, kvm-b)");
    expect(listener.plans[0]!.workers).toBe(2);
    const byHost = (h: string) => ws.intervals.filter((i) => i.host === h);
    expect(byHost("kvm-a")).toHaveLength(2);
    expect(byHost("kvm-b")).toHaveLength(2);
    // At most one lab per host at a time; the two hosts' labs overlapped.
    for (const h of ["kvm-a", "kvm-b"]) {
      const [x, y] = byHost(h);
      expect(x!.end <= y!.start || y!.end <= x!.start).toBe(true);
    }
    expect(byHost("kvm-a").some((a) => byHost("kvm-b").some((b) => a.start < b.end && b.start < a.end))).toBe(true);
    const state = readState(out)!;
    for (const run of state.runs) {
      const saved = output(out, run.outputFile);
      expect(saved.sweep.host!.name).toBe(run.host);
      expect(saved.sweep).toMatchObject({ engineStack: `${run.stack}.${run.host}` });
    }
    expect(reportRuns(out)).toEqual(["s1-mtu1500-uso-off.json", "s1-mtu1500-uso-on.json", "s2-mtu1500-uso-off.json", "s2-mtu1500-uso-on.json"]);
    expect(ws.deployed.size).toBe(0);
  });

  it("a host that fails in the middle of an up leaves the pool: its run fails with the reason, the rest go to the other host; the next sweep finishes", async () => {
    const ws = new FakeWorkspace(20);
    const out = dir("loss");
    const hosts = [fakeHost("kvm-a"), fakeHost("kvm-b")];
    // kvm-b's libvirtd stops while its first lab comes up.
    ws.onUp = (stack) => {
      if (stack.endsWith(".kvm-b")) ws.down.set("kvm-b", "libvirtd does not answer (virsh -c qemu:///system): failed to connect to the hypervisor");
    };
    const listener = new RecordingListener();
    const first = await sweep({ outDir: out, samples: 2, hosts, runIdPrefix: "l", removeCommand: (l) => `offload-lab destroy --stack ${l.stack} --hosts pool.yaml --host ${l.host}` }, ws, listener);
    expect(first.exitCode).toBe(3);
    const state = readState(out)!;
    const failed = state.runs.filter((r) => r.phase !== "done");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ host: "kvm-b", attempts: 1 });
    expect(failed[0]!.error).toMatch(/^libvirtd does not answer .*failed to connect to the hypervisor \(error: update failed\)$/);
    expect(listener.notes).toContain(`sweep: host kvm-b leaves the pool for this sweep: ${failed[0]!.error}`);
    expect(state.runs.filter((r) => r.phase === "done").map((r) => r.host)).toEqual(["kvm-a", "kvm-a", "kvm-a"]);
    expect(first.messages).toContain(`host kvm-b: out of this sweep: ${failed[0]!.error}`);
    expect(first.messages).toContain(
      `left up: ${failed[0]!.stack}.kvm-b on kvm-b (its up failed: ${failed[0]!.error}); remove it with: offload-lab destroy --stack ${failed[0]!.stack} --hosts pool.yaml --host kvm-b`,
    );

    // kvm-b is back: its leftover is destroyed first, then the failed run runs (and only it).
    ws.down.clear();
    ws.onUp = () => undefined;
    ws.calls.length = 0;
    const second = await sweep({ outDir: out, samples: 2, hosts }, ws);
    expect(second.exitCode).toBe(0);
    expect(ws.calls.filter((c) => c.startsWith("up"))).toHaveLength(1);
    // Either it reuses its own stack on kvm-b in place, or kvm-a takes it and kvm-b destroys the leftover.
    const leftover = `${failed[0]!.stack}.kvm-b`;
    expect(ws.calls.includes(`destroy ${leftover}`) || ws.calls.includes(`up ${leftover} ${failed[0]!.runId}`)).toBe(true);
    expect(ws.deployed.size).toBe(0);
    expect(readState(out)!.leftovers).toEqual([]);
    expect(reportRuns(out)).toHaveLength(4);
  });

  it("a host still unreachable takes no run; the failed run runs elsewhere and the stack left there stays named", async () => {
    const ws = new FakeWorkspace();
    const out = dir("unreachable");
    const refused = "unreachable over SSH (root@192.0.2.5:22): ssh: connect to host 192.0.2.5 port 22: Connection refused";
    ws.onUp = () => ws.down.set("kvm-b", refused);
    const first = await sweep({ outDir: out, hosts: [fakeHost("kvm-b")] }, ws);
    expect(first.exitCode).toBe(3);
    ws.onUp = () => undefined;
    ws.calls.length = 0;
    const second = await sweep({ outDir: out, hosts: [fakeHost("kvm-b"), fakeHost("kvm-a")] }, ws);
    // Every run measured: the report is written and its code stands; what is left is said.
    expect(second.exitCode).toBe(0);
    const state = readState(out)!;
    expect(state.runs.map((r) => [r.phase, r.host])).toEqual([["done", "kvm-a"], ["done", "kvm-a"]]);
    expect(state.leftovers.map((l) => l.engineStack)).toEqual(["mtu1500-uso-off.kvm-b"]);
    expect(second.messages).toContain(`host kvm-b: out of this sweep: ${refused}`);
    expect(second.messages.some((m) => m.startsWith(`left up: mtu1500-uso-off.kvm-b on kvm-b (its up failed: ${refused}`))).toBe(true);
    expect(ws.calls.filter((c) => c.includes("kvm-b"))).toEqual(["probe kvm-b"]);
  });
});

describe("--shard i/n", () => {
  it("parses i/n and refuses anything else", () => {
    expect(parseShard("2/3")).toEqual({ index: 2, count: 3 });
    for (const bad of ["0/2", "3/2", "1/0", "a/b", "1/2/3", "-1/2", " /2"]) expect(typeof parseShard(bad)).toBe("string");
  });

  it("n shards cover every run exactly once, round-robin", () => {
    const runs = Array.from({ length: 7 }, (_, i) => i);
    const shards = [1, 2, 3].map((index) => shardOf(runs, { index, count: 3 }));
    expect(shards).toEqual([[0, 3, 6], [1, 4], [2, 5]]);
    expect(shards.flat().sort()).toEqual(runs);
  });

  it("shards 1/2 and 2/2 then report hold the same runs as the unsharded sweep", async () => {
    const opts = { stacks: STACKS, samples: 3, shuffle: true, seed: 7 };
    const whole = dir("shard-whole");
    expect((await runSweep({ ...opts, outDir: whole }, new FakeWorkspace(), new RecordingListener())).exitCode).toBe(0);
    const parts = [1, 2].map((i) => dir(`shard-${i}`));
    for (const [i, out] of parts.entries()) {
      const r = await runSweep({ ...opts, outDir: out, shard: { index: i + 1, count: 2 } }, new FakeWorkspace(), new RecordingListener());
      expect(r.exitCode).toBe(0);
      expect(readState(out)!.runs).toHaveLength(6);
    }
    const merged = dir("shard-merged");
    const report = await writeReport(parts, merged, {});
    expect(report.exitCode).toBe(0);
    const runsOf = (out: string) => readState(out)!.runs.map((r) => `s${r.sample} ${r.stack}`);
    expect([...runsOf(parts[0]!), ...runsOf(parts[1]!)].sort()).toEqual(runsOf(whole).sort());
    expect(reportRuns(merged)).toEqual(reportRuns(whole));
    expect(reportRuns(merged)).toHaveLength(12);
  });
});

describe("plainOutputs", () => {
  it("gives values as `pulumi stack output --json` does, secrets masked", () => {
    expect(plainOutputs({ cells: { value: [1], secret: false }, key: { value: "s3cr3t", secret: true } })).toEqual({ cells: [1], key: "[secret]" });
  });
});
