// What USO buys in the lab itself: the sandbox-uso-on stack brought up by the real engine on
// the sandbox KVM host (the trixie guest under TCG, QEMU 10), then the guest's
// tx-udp-segmentation switched off and on between cells (the guest-offloads step of
// sandbox-uso-off and sandbox-uso-on), the arms interleaved, n per arm, gso sender, 1472 B:
// receiver throughput at -b 0, guest CPU at a fixed bitrate; and the evidence's observer
// effect: a benchmark cell with its tap counter and kernel-filtered capture against the same
// guest cell script carried by the same transport with nothing around it.
import * as path from "node:path";
import type { LabConfig } from "../src/config/model";
import { loadStack } from "../src/config/stackFile";
import { labStackOf } from "../src/engine/stack";
import { planCells } from "../src/plan/benchmark/cells";
import { guestCellScript } from "../src/plan/benchmark/guestCell";
import { planLab } from "../src/plan/lab";
import { guestStepCommand, transportFor } from "../src/plan/transport";
import { welchInterval } from "../src/report/stats";
import type { CellResult } from "../src/results/cell";
import { parseIperf3 } from "../src/results/iperf3";
import { canUseNamespaces } from "../src/sandbox/netns";
import { startSandbox } from "../src/sandbox/session";
import { ensureCheckoutPassphrase } from "../src/engine/passphrase";
import { runOnHost } from "./hostRunner";

const N = Number(process.env.BENCH_N ?? 5);
const SECONDS = 3;
const FIXED_RATE = "50M";
const PROJECT_DIR = path.join(__dirname, "..");

function ratio(a: readonly number[], b: readonly number[]): string {
  const w = welchInterval(a.map(Math.log), b.map(Math.log));
  if (w === null) return "n/a (fewer than two runs in an arm)";
  return `${Math.exp(w.diff).toFixed(3)} [95 % ${Math.exp(w.low).toFixed(3)}..${Math.exp(w.high).toFixed(3)}]`;
}
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function main(): Promise<void> {
  const usable = canUseNamespaces();
  if (!usable.ok) {
    console.log(`bench/usoLab: skipped (${usable.reason})`);
    return;
  }
  // The checkout's backend and passphrase, found as every entry finds them (the main job's file,
  // made here the same way when there is none yet): the bench runs after the main job as it is.
  ensureCheckoutPassphrase(PROJECT_DIR);
  const sandbox = await startSandbox(PROJECT_DIR, (l) => console.log(`bench/usoLab: ${l}`));
  const stack = await labStackOf(PROJECT_DIR, { stack: "sandbox-uso-on", host: sandbox.labHost }).catch(async (e: unknown) => {
    await sandbox.stop();
    throw e;
  });
  const on = loadStack(PROJECT_DIR, "sandbox-uso-on");
  const off: LabConfig = { ...on, offloads: { ...on.offloads, uso: { ipv4: false } } };
  const transport = transportFor(on);
  // Between cells the stack's own scripts run where its steps run: on the sandbox host.
  const prefix = ["nsenter", "-t", String(sandbox.host.lv.pid), "-n", "-m"];
  const host = async (script: string): Promise<string> => {
    const r = await runOnHost(prefix, script);
    if (r.code !== 0) throw new Error(`host script exited ${r.code}: ${r.stderr.slice(-2000)}`);
    return r.stdout;
  };
  try {
    const t0 = Date.now();
    await stack.up();
    console.log(`bench/usoLab: lab up (pulumi up of sandbox-uso-on) in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    const offloads = (cfg: LabConfig) => planLab(cfg, transport).guestOffloads.create;
    const at = (cfg: LabConfig, rate: string): LabConfig => ({
      ...cfg,
      matrix: { ...cfg.matrix, payloads: [1472], senders: ["gso"], repetitions: 1, durationSeconds: SECONDS, bitrates: [rate] },
    });
    const labCell = async (cfg: LabConfig): Promise<CellResult> => {
      const { benchmark } = planLab(cfg, transport);
      return benchmark.parse(await host(benchmark.create)).cells[0]!;
    };
    const bareCell = async (cfg: LabConfig) => parseIperf3(await host(guestStepCommand(transport, guestCellScript(cfg, planCells(cfg)[0]!))));

    const arms = { offMax: [] as number[], onMax: [] as number[], offCpu: [] as number[], onCpu: [] as number[], lab: [] as number[], bare: [] as number[] };
    const evidence: string[] = [];
    for (let i = 0; i < N; i++) {
      const order = i % 2 === 0 ? [off, on] : [on, off];
      for (const cfg of order) {
        const uso = cfg === on;
        await host(offloads(cfg));
        const max = await labCell(at(cfg, "0"));
        const cpu = await labCell(at(cfg, FIXED_RATE));
        if (max.status === "ok") (uso ? arms.onMax : arms.offMax).push(max.throughputBps!);
        if (cpu.status === "ok" && cpu.guestCpuPercent !== null) (uso ? arms.onCpu : arms.offCpu).push(cpu.guestCpuPercent);
        const e = cpu.evidence;
        evidence.push(`${uso ? "on" : "off"} ${e.largeFrames}/${e.totalFrames} frames large, largest ${e.largestFrame}, ${e.datagramsPerFrame?.toFixed(1)} dg/frame, ${e.usoEngaged}`);
      }
      // Observer effect at the fixed bitrate with USO on, where the filter passes super-frames.
      await host(offloads(on));
      for (const arm of i % 2 === 0 ? ["lab", "bare"] : ["bare", "lab"]) {
        if (arm === "lab") {
          const c = await labCell(at(on, "0"));
          if (c.status === "ok") arms.lab.push(c.throughputBps!);
        } else {
          const r = await bareCell(at(on, "0"));
          if (r.throughputBps !== null) arms.bare.push(r.throughputBps);
        }
      }
    }
    const mbit = (xs: number[]) => `${(mean(xs) / 1e6).toFixed(1)} Mbit/s (n=${xs.length})`;
    console.log(`bench/usoLab: trixie guest under TCG on QEMU 10, MTU 1500, 1472 B, gso sender, ${SECONDS} s cells, arms interleaved, n=${N}`);
    console.log(`  receiver throughput at -b 0: USO off ${mbit(arms.offMax)}, on ${mbit(arms.onMax)}; on/off = ${ratio(arms.offMax, arms.onMax)}`);
    console.log(`  guest CPU at -b ${FIXED_RATE}: off ${mean(arms.offCpu).toFixed(1)} %, on ${mean(arms.onCpu).toFixed(1)} %; on/off = ${ratio(arms.offCpu, arms.onCpu)}`);
    console.log(`  evidence at -b ${FIXED_RATE}: ${evidence.join("; ")}`);
    console.log(`  observer effect at -b 0, USO on: lab cell ${mbit(arms.lab)}, bare cell script ${mbit(arms.bare)}; lab/bare = ${ratio(arms.bare, arms.lab)} (goal 0.98..1.02)`);
  } finally {
    try {
      await stack.destroy();
    } finally {
      await sandbox.stop();
    }
  }
}

main().catch((e: unknown) => {
  console.error(`bench/usoLab: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
