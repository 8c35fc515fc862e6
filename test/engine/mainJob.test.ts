import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readState, type SweepState } from "../../src/sweep/state";
import { canUseNamespaces } from "../../src/sandbox/netns";
import { SLOT_DIR } from "../../src/sandbox/ownership";
import { pulumiCli } from "../support/engine";
import { PROJECT_DIR } from "../support/programHarness";
import { PhaseTimes } from "../support/sandboxLab";
import { expectArmsLabOutputs } from "../support/usoLabAssertions";

// The main job as a user runs it, killed hard twice and run again, then the bench's engine part
// in the same checkout with nothing done in between (issue 20, points 9 and 10):
//   1. SIGKILL while the sandbox starts: the repository is as it was;
//   2. the next run removes what that left, and is SIGKILLed during its second stack's first up:
//      the repository is as it was;
//   3. the next run removes what that left, resumes (the finished run is not redone), finishes,
//      and leaves no olsandbox namespace, veth, libvirtd or guest behind;
//   4. `bench/usoLab.ts` (npm run bench's engine part) runs green in the same checkout.
// The checkout is a clone of this one with its uncommitted files, so the job's out/ and
// .offload-lab/ are its own; node_modules is this one's (the job runs without set-up).

const ns = canUseNamespaces();
const cli = pulumiCli();
const skip = !ns.ok ? ns.reason : !cli.ok ? cli.reason : null;
if (skip !== null) console.log(`main job test skipped: ${skip}`);

const phases = new PhaseTimes();
const STACK_TRACE = /^\s+at .+(\(|:\d+)/m;

/** A checkout of its own: a clone of this one at HEAD, with this one's uncommitted and untracked files over it. */
function checkout(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ol-mainjob-"));
  execFileSync("git", ["clone", "-q", PROJECT_DIR, dir]);
  const changed = execFileSync("git", ["-C", PROJECT_DIR, "ls-files", "-z", "-m", "-o", "--exclude-standard"], { encoding: "utf8" }).split("\0").filter(Boolean);
  for (const f of changed) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.copyFileSync(path.join(PROJECT_DIR, f), path.join(dir, f));
  }
  for (const f of execFileSync("git", ["-C", PROJECT_DIR, "ls-files", "-z", "-d"], { encoding: "utf8" }).split("\0").filter(Boolean)) {
    fs.rmSync(path.join(dir, f), { force: true });
  }
  fs.symlinkSync(path.join(PROJECT_DIR, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

interface Ran {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
}

/** Runs argv in the checkout, in its own process group; `killWhen` is polled and SIGKILLs the whole group. */
function runIn(dir: string, argv: string[], killWhen?: () => boolean, env: Record<string, string> = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: dir,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, OFFLOAD_LAB_SETUP: "0", ...env },
    });
    let output = "";
    child.stdout!.setEncoding("utf8").on("data", (c: string) => (output += c));
    child.stderr!.setEncoding("utf8").on("data", (c: string) => (output += c));
    const poll = killWhen && setInterval(() => {
      if (killWhen()) {
        clearInterval(poll);
        process.kill(-child.pid!, "SIGKILL");
      }
    }, 100);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (poll) clearInterval(poll);
      resolve({ code, signal, output });
    });
  });
}

function slotRecord(): { namespace?: string; libvirtdDir?: string } | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(SLOT_DIR, "sandbox-0.json"), "utf8")) as { namespace?: string; libvirtdDir?: string };
  } catch {
    return null;
  }
}

function hostLeftovers(): { namespaces: string; veths: string; libvirtd: string; qemu: string } {
  const sh = (script: string) => execFileSync("bash", ["-c", script], { encoding: "utf8" }).trim();
  return {
    namespaces: sh("ip netns list | grep -o '^olsandbox-[0-9a-f]*' || true"),
    veths: sh("ip -o link show | grep -o 'olsb[0-9a-f]*' || true"),
    // A sandbox's libvirtd runs in a network namespace of its own, never the machine's.
    libvirtd: sh('n=0; for p in $(pgrep -x -r R,S,D,T libvirtd); do [ "$(readlink /proc/$p/ns/net)" != "$(readlink /proc/self/ns/net)" ] && n=$((n+1)); done; echo $n'),
    // [g]: the pattern must not match this very shell's command line.
    qemu: sh("pgrep -c -r R,S,D,T -f '[g]uest=sandbox-lab' || true"),
  };
}

describe.skipIf(skip !== null)("the main job, killed hard and run again, then the bench, in one checkout", () => {
  let dir: string;
  let gitStatus: string;
  const status = () => execFileSync("git", ["-C", dir, "status", "--porcelain"], { encoding: "utf8" });
  // A budget that gives each in-lab arms stack its first round and little more: this test is about
  // kills and resumes, the main job's own budget about answers.
  const mainJob = (killWhen?: () => boolean) => runIn(dir, ["bash", "scripts/main.sh"], killWhen, { OFFLOAD_LAB_BUDGET: "8m" });
  const state = (): SweepState | null => readState(path.join(dir, "out", "report"));

  beforeAll(() => {
    dir = checkout();
    gitStatus = status();
  });
  afterAll(() => {
    console.log(`main job test times: ${phases}`);
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("killed while the sandbox starts, leaves the repository as it was", async () => {
    // The record names the libvirtd folder just before that libvirtd starts.
    const ran = await phases.timed("killed in sandbox start", () => mainJob(() => slotRecord()?.libvirtdDir !== undefined));
    expect(ran.signal, ran.output.slice(-3000)).toBe("SIGKILL");
    expect(status()).toBe(gitStatus);
    expect(hostLeftovers().namespaces).toMatch(/^olsandbox-/);
  }, 600_000);

  it("run again, removes what that left; killed during its second stack's up, leaves the repository as it was", async () => {
    const left = slotRecord()!;
    let upSince = 0;
    const ran = await phases.timed("killed in 2nd up", () =>
      mainJob(() => {
        const s = state();
        if (s === null || s.runs[0]!.phase !== "done" || !s.runs[1]!.active) return false;
        upSince ||= Date.now();
        // Well into the up: the guest is being made, steps run over SSH.
        return Date.now() - upSince > 20_000;
      }),
    );
    expect(ran.signal, ran.output.slice(-3000)).toBe("SIGKILL");
    expect(ran.output).toMatch(new RegExp(`sandbox slot 0: its last owner \\(pid \\d+ .*\\) is no longer running; removed what it left: (processes .*; )?veth olsb[0-9a-f]+; namespace ${left.namespace}; folder ${left.libvirtdDir}`));
    expect(status()).toBe(gitStatus);
    const s = state()!;
    expect(s.runs.map((r) => [r.phase, r.attempts, r.active])).toEqual([["done", 1, false], ["pending", 1, true]]);
  }, 1_200_000);

  it("run again, removes what that left, resumes without redoing the finished run, finishes and leaves nothing", async () => {
    const left = slotRecord()!;
    const done = state()!.runs[0]!;
    const firstOutput = fs.readFileSync(path.join(dir, "out", "report", done.outputFile), "utf8");
    const ran = await phases.timed("resumed main job", () => mainJob());
    expect(ran.code, ran.output.slice(-5000)).toBe(0);
    expect(ran.output).toContain(`namespace ${left.namespace}`);
    expect(ran.output).toMatch(/sweep: resuming, 1 of 2 runs done \(2 stacks, each sampled in rounds to ±10 % or at most 30 per arm, within 8m 00s\), on 1 host \(sandbox-0\)/);
    expect(ran.output).toMatch(/sweep: left up by an earlier sweep: sandbox-mtu9000-uso-arms\.sandbox-0 on sandbox-0 \(the sweep stopped during its up\)/);
    const log = path.join(dir, "out", "report", "engine.log");
    // One line per phase, with its time and the time left; the engine's stream only in the log it names at the start and end.
    expect(ran.output).toContain(`sweep: the engine's whole output goes to ${log}`);
    const second = "\\[2/2\\] s1 sandbox-mtu9000-uso-arms on sandbox-0";
    expect(ran.output).toMatch(new RegExp(`\\[\\d+:\\d\\d\\] ${second}: up done in \\d+:\\d\\d · ((at most )?about \\d+:\\d\\d left|time left: known after the first up)`));
    expect(ran.output).toMatch(new RegExp(`\\[\\d+:\\d\\d\\] ${second}: destroy done in \\d+:\\d\\d · (at most )?about \\d+:\\d\\d left`));
    // Its rounds: a line each with the rows still open and the time left, or the end of its sampling.
    expect(ran.output).toMatch(new RegExp(`sweep: ${second}(: sampling over after \\d+ rounds?, | round 2: \\d+ of \\d+ rows open, )`));
    expect(ran.output).not.toMatch(/\[1\/2\] s1 sandbox-mtu1500-uso-arms on sandbox-0: up/);
    expect(ran.output).not.toContain("│");
    expect(ran.output).toContain(`engine log: ${log}`);
    expect(fs.readFileSync(log, "utf8")).toMatch(/sandbox-mtu9000-uso-arms\.sandbox-0 │ .*command:remote:Command.*benchmark/);
    expect(ran.output).not.toMatch(STACK_TRACE);
    // The verdict table and the report.
    expect(ran.output).toMatch(/report: out\/report\/report\.md/);
    const s = state()!;
    expect(s.runs.map((r) => [r.stack, r.phase, r.attempts, r.sampled])).toEqual([
      ["sandbox-mtu1500-uso-arms", "done", 1, true], ["sandbox-mtu9000-uso-arms", "done", 2, true],
    ]);
    expect(fs.readFileSync(path.join(dir, "out", "report", done.outputFile), "utf8")).toBe(firstOutput);
    for (const file of s.runs.flatMap((r) => r.rounds!.map((x) => x.outputFile))) {
      const out = JSON.parse(fs.readFileSync(path.join(dir, "out", "report", file), "utf8")) as { cells: { status: string }[]; sweep: { host: { name: string } } };
      expect(out.cells.every((c) => c.status === "ok"), file).toBe(true);
      expect(out.sweep.host.name).toBe("sandbox-0");
    }
    // In-lab arms as the main job ran them (issue 17): each stack's first round is its whole
    // matrix, every cell switched to its arm and read back, gso engaged with super-frames in the
    // on arm only (MTU 9000 at 8972 B too), plain not exercised, 65507 B fragmented, the
    // receiver's counters on every cell.
    for (const [stack, mtu, payload] of [["sandbox-mtu1500-uso-arms", 1500, 1472], ["sandbox-mtu9000-uso-arms", 9000, 8972]] as const) {
      const first = s.runs.find((r) => r.stack === stack)!.rounds![0]!;
      const outputs = JSON.parse(fs.readFileSync(path.join(dir, "out", "report", first.outputFile), "utf8")) as Record<string, unknown>;
      expectArmsLabOutputs(outputs, { mtu, payloads: [payload, 65507], bitrates: ["0", "100M"], repetitions: 2 });
    }
    expect(status()).toBe(gitStatus);
    expect(hostLeftovers()).toEqual({ namespaces: "", veths: "", libvirtd: "0", qemu: "0" });
    expect(slotRecord()).toBeNull();
  }, 2_400_000);

  it("then the bench's engine part runs green in the same checkout, nothing done in between", async () => {
    const ran = await phases.timed("bench/usoLab", () =>
      runIn(dir, ["npx", "--no-install", "tsx", "bench/usoLab.ts"], undefined, { BENCH_N: "1" }),
    );
    expect(ran.code, ran.output.slice(-5000)).toBe(0);
    expect(ran.output).toMatch(/bench\/usoLab: lab up \(pulumi up of sandbox-uso-on\) in \d+ s/);
    expect(ran.output).toMatch(/receiver throughput at -b 0: USO off [\d.]+ Mbit\/s \(n=1\), on [\d.]+ Mbit\/s \(n=1\)/);
    expect(ran.output).not.toMatch(STACK_TRACE);
    expect(status()).toBe(gitStatus);
    expect(hostLeftovers()).toEqual({ namespaces: "", veths: "", libvirtd: "0", qemu: "0" });
  }, 1_800_000);
});
