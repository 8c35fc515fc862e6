// What a second KVM host buys a sweep on this machine: the same work (sandbox-uso-off/-on × N
// samples: up, matrix, outputs, destroy each) swept on one sandbox host, then on two, in one
// run of the bench, with the wall time of each and their ratio. Both sandboxes are up for both
// sweeps (a one-host sweep simply does not use the second). Beside it, the share of the
// machine's CPU time that was busy during each sweep (/proc/stat, all cores, everything running
// on the machine): what a one-host sweep leaves idle is what a second host can use, and on 2
// cores with TCG guests that bounds the gain.
import * as fs from "node:fs";
import * as path from "node:path";
import { elapsed } from "../src/cli/progress";
import { ensureCheckoutPassphrase } from "../src/engine/passphrase";
import type { LabHost } from "../src/hosts/pool";
import { canUseNamespaces } from "../src/sandbox/netns";
import { startSandbox, type Sandbox } from "../src/sandbox/session";
import { automationWorkspace } from "../src/sweep/automation";
import { runSweep, type SweepListener } from "../src/sweep/run";

const PROJECT_DIR = path.join(__dirname, "..");
const SAMPLES = Number(process.env.BENCH_POOL_SAMPLES ?? 2);
const STACKS = ["sandbox-uso-off", "sandbox-uso-on"];

/** Busy and total jiffies of all cores since boot. */
function cpu(): { busy: number; total: number } {
  const f = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  // idle and iowait: a core with nothing to run.
  return { busy: total - f[3]! - f[4]!, total };
}

function listener(tag: string, ups: number[]): SweepListener {
  return {
    note: (l) => console.log(`bench/pool: ${tag}: ${l}`),
    plan: () => undefined,
    phaseStart: () => undefined,
    phaseEnd: (e, ok, s) => {
      if (e.phase === "up" && ok) ups.push(s);
      console.log(`bench/pool: ${tag}: ${e.tag} ${e.phase} ${ok ? "done" : "FAILED"} in ${elapsed(s * 1000)}`);
    },
    engine: () => ({ output: () => undefined, step: () => undefined }),
  };
}

async function sweep(tag: string, hosts: LabHost[], out: string): Promise<{ seconds: number; busy: number; ups: number[] }> {
  fs.rmSync(out, { recursive: true, force: true });
  const ups: number[] = [];
  const c0 = cpu();
  const t0 = Date.now();
  const outcome = await runSweep({ stacks: STACKS, samples: SAMPLES, outDir: out, hosts }, automationWorkspace(PROJECT_DIR), listener(tag, ups));
  const seconds = (Date.now() - t0) / 1000;
  const c1 = cpu();
  if (outcome.exitCode !== 0) throw new Error(`${tag} sweep failed: ${outcome.messages.join("; ")}`);
  return { seconds, busy: (c1.busy - c0.busy) / (c1.total - c0.total), ups };
}

async function main(): Promise<void> {
  const usable = canUseNamespaces();
  if (!usable.ok) {
    console.log(`bench/pool: skipped (${usable.reason})`);
    return;
  }
  ensureCheckoutPassphrase(PROJECT_DIR);
  const sandboxes: Sandbox[] = [];
  const out = path.join(PROJECT_DIR, "out", "bench-pool");
  try {
    for (const slot of [0, 1]) sandboxes.push(await startSandbox(PROJECT_DIR, (l) => console.log(`bench/pool: ${l}`), slot));
    const [a, b] = sandboxes.map((s) => s.labHost) as [LabHost, LabHost];
    const one = await sweep("one host", [a], path.join(out, "one-host"));
    const two = await sweep("two hosts", [a, b], path.join(out, "two-hosts"));
    const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
    const pct = (x: number) => `${(x * 100).toFixed(0)} %`;
    console.log(`bench/pool: ${STACKS.length} stacks × ${SAMPLES} samples (up, matrix, outputs, destroy each), TCG guests, ${fs.readFileSync("/proc/cpuinfo", "utf8").match(/^processor/gm)!.length} cores shared with other jobs`);
    console.log(`  one host:  ${elapsed(one.seconds * 1000)} wall, mean up ${mean(one.ups).toFixed(0)} s, machine CPU busy ${pct(one.busy)} (idle ${pct(1 - one.busy)})`);
    console.log(`  two hosts: ${elapsed(two.seconds * 1000)} wall, mean up ${mean(two.ups).toFixed(0)} s, machine CPU busy ${pct(two.busy)}`);
    console.log(`  two hosts / one host wall time: ${(two.seconds / one.seconds).toFixed(2)} (speed-up ${(one.seconds / two.seconds).toFixed(2)}×; with no contention it would approach 0.5)`);
  } finally {
    for (const s of sandboxes) await s.stop();
  }
}

main().catch((e: unknown) => {
  console.error(`bench/pool: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
