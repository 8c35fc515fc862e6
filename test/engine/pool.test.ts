import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readState } from "../../src/sweep/state";
import { canUseNamespaces, run } from "../../src/sandbox/netns";
import { startSandbox, type Sandbox } from "../../src/sandbox/session";
import { Sshd } from "../../src/sandbox/sshd";
import { privateBackend, pulumiCli } from "../support/engine";
import { PROJECT_DIR } from "../support/programHarness";
import { expectSandboxLabGone, PhaseTimes } from "../support/sandboxLab";

// Many hosts (issue 21) on this machine: two sandbox KVM hosts, each a network namespace with its
// own libvirtd and sshd on its own /30, reached over SSH, listed in a pool file; `offload-lab
// sweep --hosts` as a user runs it, both hosts' stacks in one file backend at once.
//   - two stacks × one sample: both hosts used, one run each, their runs overlapped in time (the
//     recorded start and end of each run), every output names its host, the report holds both;
//   - host loss: sandbox-1's sshd stopped in the middle of its up: that run fails with the
//     reason, the others finish on sandbox-0; a second sweep, with sandbox-1 back, completes the
//     failed run and destroys what the failure left there; nothing is left on either host.

const ns = canUseNamespaces();
const cli = pulumiCli();
const skip = !ns.ok ? ns.reason : !cli.ok ? cli.reason : null;
if (skip !== null) console.log(`host pool tests skipped: ${skip}`);

const phases = new PhaseTimes();

interface Ran {
  readonly code: number | null;
  readonly output: string;
}

describe.skipIf(skip !== null)("a sweep over a pool of two sandbox hosts", () => {
  let backend: ReturnType<typeof privateBackend>;
  let tmp: string;
  let pool: string;
  const sandboxes: Sandbox[] = [];

  /** `offload-lab sweep` as a user runs it; `during` is polled with the sweep's state. */
  function sweep(args: string[], during?: (out: string) => void): Promise<Ran> {
    return new Promise((resolve, reject) => {
      const out = args[args.indexOf("--out") + 1]!;
      const child = spawn(process.execPath, [path.join(PROJECT_DIR, "bin", "offload-lab.js"), "sweep", "--hosts", pool, ...args], {
        cwd: PROJECT_DIR,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout!.setEncoding("utf8").on("data", (c: string) => (output += c));
      child.stderr!.setEncoding("utf8").on("data", (c: string) => (output += c));
      const poll = during && setInterval(() => during(out), 250);
      child.on("error", reject);
      child.on("close", (code) => {
        if (poll) clearInterval(poll);
        resolve({ code, output });
      });
    });
  }

  beforeAll(async () => {
    backend = privateBackend();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ol-pool-"));
    for (const slot of [0, 1]) sandboxes.push(await startSandbox(PROJECT_DIR, (l) => console.log(l), slot));
    const entries = sandboxes.map((s) => {
      const key = path.join(tmp, `${s.labHost.name}.key`);
      fs.writeFileSync(key, s.host.privateKey, { mode: 0o600 });
      return `  - name: ${s.labHost.name}\n    address: ${s.labHost.address}\n    key: { file: ${key} }\n`;
    });
    pool = path.join(tmp, "pool.yaml");
    fs.writeFileSync(pool, `hosts:\n${entries.join("")}`);
  }, 1_800_000);

  afterAll(async () => {
    try {
      for (const s of sandboxes) await s.stop();
    } finally {
      backend?.remove();
      if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
      console.log(`host pool test times: ${phases}`);
    }
  }, 600_000);

  it("two stacks × one sample: both hosts used at once, every output names its host, the report holds both runs", async () => {
    const out = path.join(tmp, "two-hosts");
    const ran = await phases.timed("2 stacks × 1 sample on 2 hosts", () =>
      sweep(["--stacks", "sandbox-uso-off,sandbox-uso-on", "--samples", "1", "--out", out]),
    );
    expect(ran.code, ran.output.slice(-5000)).toBe(0);
    expect(ran.output).toContain("sweep: 2 runs (2 stacks × 1 samples), on 2 hosts (sandbox-0, sandbox-1)");
    const runs = readState(out)!.runs;
    expect(new Set(runs.map((r) => r.host))).toEqual(new Set(["sandbox-0", "sandbox-1"]));
    // From the recorded times: a run of one host overlapped a run of the other.
    const span = (r: (typeof runs)[number]) => [Date.parse(r.startedAt!), Date.parse(r.endedAt!)] as const;
    const on = (h: string) => runs.filter((r) => r.host === h).map(span);
    const overlaps = on("sandbox-0").some(([a0, a1]) => on("sandbox-1").some(([b0, b1]) => a0 < b1 && b0 < a1));
    expect(overlaps, JSON.stringify(runs, null, 1)).toBe(true);
    // One lab per host: each host ran exactly one of the two runs.
    expect(runs.map((r) => r.host).sort()).toEqual(["sandbox-0", "sandbox-1"]);
    for (const r of runs) {
      const saved = JSON.parse(fs.readFileSync(path.join(out, r.outputFile), "utf8")) as {
        stack: string;
        cells: { status: string }[];
        sweep: { host: { name: string; address: string } };
      };
      const host = sandboxes.find((s) => s.labHost.name === r.host)!.labHost;
      expect(saved.sweep.host).toEqual({ name: host.name, address: host.address });
      expect(saved.stack).toBe(`${r.stack}.${r.host}`);
      expect(saved.cells.every((c) => c.status === "ok"), r.outputFile).toBe(true);
    }
    const sources = new Set(fs.readFileSync(path.join(out, "results.csv"), "utf8").trim().split("\r\n").slice(1).map((l) => path.basename(l.split(",")[0]!)));
    expect([...sources].sort()).toEqual(runs.map((r) => path.basename(r.outputFile)).sort());
    for (const s of sandboxes) expectSandboxLabGone(s.host.lv);
  }, 3_600_000);

  it("a host whose sshd stops in the middle of its up leaves the pool; a second sweep completes the failed run and leaves nothing", async () => {
    const out = path.join(tmp, "host-loss");
    const lost = sandboxes[1]!;
    let stopped = false;
    const first = await phases.timed("host lost in its up", () =>
      sweep(["--stacks", "sandbox-uso-on", "--samples", "2", "--out", out], (dir) => {
        if (stopped) return;
        // In the middle of its up: its network made on the host, the guest to come.
        const log = path.join(dir, "engine.log");
        if (!fs.existsSync(log) || !/sandbox-uso-on\.sandbox-1 │ .*command:remote:Command network created/.test(fs.readFileSync(log, "utf8"))) return;
        // Every sshd of that host: the listener and the sessions carrying steps now.
        stopped = true;
        for (const pid of run("ip", ["netns", "pids", lost.host.ns.name]).split(/\s+/).filter(Boolean)) {
          if (fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "sshd") process.kill(Number(pid), "SIGKILL");
        }
      }),
    );
    expect(stopped, first.output.slice(-3000)).toBe(true);
    expect(first.code, first.output.slice(-5000)).toBe(3);
    const state = readState(out)!;
    const failed = state.runs.filter((r) => r.phase !== "done");
    expect(failed).toHaveLength(1);
    expect(failed[0]!.host).toBe("sandbox-1");
    expect(failed[0]!.error).toMatch(/^unreachable over SSH \(root@10\.203\.77\.6:22\): .*Connection refused/);
    expect(state.runs.filter((r) => r.phase === "done").map((r) => r.host)).toEqual(["sandbox-0"]);
    expect(first.output).toContain(`sweep: host sandbox-1 leaves the pool for this sweep: ${failed[0]!.error}`);
    expect(first.output).toContain(
      `left up: sandbox-uso-on.sandbox-1 on sandbox-1 (its up failed: ${failed[0]!.error}); remove it with: offload-lab destroy --stack sandbox-uso-on --hosts ${pool} --host sandbox-1`,
    );
    expect(first.output).toMatch(/last 20 lines of .*engine\.log:/);
    // What the failed up made is still on sandbox-1: its network.
    expect(lost.host.lv.virsh(["net-list", "--all", "--name"])).toContain("offload-lab");

    // sandbox-1 back: sshd again, the same key.
    const publicKey = execFileSync("ssh-keygen", ["-y", "-f", path.join(tmp, "sandbox-1.key")], { encoding: "utf8" });
    const sshd = Sshd.start(lost.host.lv, lost.labHost.address, 22, publicKey);
    const second = await phases.timed("resumed with the host back", () => sweep(["--stacks", "sandbox-uso-on", "--samples", "2", "--out", out]));
    expect(second.code, second.output.slice(-5000)).toBe(0);
    expect(second.output).toContain("sweep: resuming, 1 of 2 runs done (1 stacks × 2 samples), on 2 hosts (sandbox-0, sandbox-1)");
    const done = readState(out)!;
    expect(done.runs.every((r) => r.phase === "done")).toBe(true);
    expect(done.runs.find((r) => r.sample === failed[0]!.sample)!.attempts).toBe(2);
    expect(done.leftovers).toEqual([]);
    for (const s of sandboxes) expectSandboxLabGone(s.host.lv);
    expect(sshd.logins()).toBeGreaterThan(0);
  }, 3_600_000);
});
