// What USO buys, and what watching it costs, measured in one run with the arms interleaved
// (so drift on the shared 2-core host falls on every arm alike), n per arm, Welch 95 %
// intervals on the log scale (a ratio's interval). Between two network namespaces on a veth
// pair: the guest end sends with iperf3 3.22 --gsro from the lab's guest image, and its
// tx-udp-segmentation on or off is the USO factor (on: one super-frame per UDP_SEGMENT
// buffer reaches the "tap"; off: the kernel segments first), as in linux-uso-on/off.
// Needs root, iperf3, tcpdump, jq, qemu-img and the guest image (built on a cache miss).
import * as path from "node:path";
import type { LabConfig } from "../src/config/model";
import { loadStack } from "../src/config/stackFile";
import { planCells } from "../src/plan/benchmark/cells";
import { iperf3ClientArgs } from "../src/plan/benchmark/guestCell";
import { benchmarkStep } from "../src/plan/benchmark/step";
import { iperf3ServerStep as serverStep } from "../src/plan/iperf3-server/step";
import type { Step } from "../src/plan/step";
import type { Transport } from "../src/plan/transport/transport";
import { welchInterval } from "../src/report/stats";
import { parseIperf3 } from "../src/results/iperf3";
import { openImageRoot } from "../test/support/imageChroot";
import { Namespace, canUseNamespaces, vethPair } from "../src/sandbox/netns";

const stand = (name: string) => ({ name }) as Step;
/** The benchmark step after stand-ins for the steps it waits for; `parse` is its own parser. */
const benchmark = (cfg: LabConfig, transport: Transport) =>
  benchmarkStep(cfg, transport, { iperf3Server: stand("iperf3-server"), guestOffloads: stand("guest-offloads"), hostOffloads: stand("host-offloads"), guestNetwork: stand("guest-network") });
const iperf3ServerStep = (cfg: LabConfig) => serverStep(cfg, { network: stand("network"), hostFirewall: stand("host-firewall") });

const N = Number(process.env.BENCH_N ?? 5);
const SECONDS = 3;
const PAYLOAD = 1472;
const FIXED_RATE = "300M";

/** mean(b)/mean(a) with Welch's 95 % interval on the logs: a ratio's interval. */
function ratio(a: readonly number[], b: readonly number[]): string {
  const w = welchInterval(a.map(Math.log), b.map(Math.log));
  if (w === null) return "n/a (fewer than two runs in an arm)";
  return `${Math.exp(w.diff).toFixed(3)} [95 % ${Math.exp(w.low).toFixed(3)}..${Math.exp(w.high).toFixed(3)}]`;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function main(): Promise<void> {
  const ns = canUseNamespaces();
  if (!ns.ok) {
    console.log(`bench/uso: skipped (${ns.reason})`);
    return;
  }
  const image = await openImageRoot();
  const host = new Namespace("olbh");
  const guest = new Namespace("olbg");
  let cfg: LabConfig | undefined;
  try {
    const veth = vethPair(host, guest, 1500, "10.199.18");
    const base = loadStack(path.join(__dirname, ".."), "linux-uso-on");
    cfg = {
      ...base,
      network: { ...base.network, hostAddress: veth.addrA, mtu: 1500 },
      guest: { ...base.guest, tapName: veth.ifA, iperf3Path: "/usr/bin/iperf3" },
      offloads: { ...base.offloads, mtu: 1500 },
      iperf3: { ...base.iperf3, port: 5218 },
      matrix: { ...base.matrix, payloads: [PAYLOAD], senders: ["gso"], repetitions: 1, durationSeconds: SECONDS, bitrates: ["0"] },
    };
    const runHost = (script: string) => host.exec(["bash", "-s"], { input: script, stdio: ["pipe", "pipe", "pipe"], maxBuffer: 64 << 20 });
    runHost(iperf3ServerStep(cfg).create);
    const segmentation = (v: "on" | "off") => guest.exec(["ethtool", "-K", veth.ifB, "tx-udp-segmentation", v]);
    // The same client arguments the lab's cell script gives iperf3, without the lab around it.
    const bare = (c: LabConfig) =>
      parseIperf3(guest.exec([...image.argv(guest), "/usr/bin/iperf3", ...iperf3ClientArgs(c, planCells(c)[0]!)], { maxBuffer: 64 << 20 }));
    const at = (rate: string): LabConfig => ({ ...cfg!, matrix: { ...cfg!.matrix, bitrates: [rate] } });
    const transport = image.transport(guest);
    const labCell = (c: LabConfig) => benchmark(c, transport).parse(runHost(benchmark(c, transport).create)).cells[0]!;
    // The lab's evidence two ways: the tap's counters alone (capture.frames false, what the
    // in-lab arms stacks and the main job use) and the counters with the tcpdump capture.
    const watched = (frames: boolean): LabConfig => ({ ...at("0"), capture: { ...cfg!.capture, frames } });

    const arms = { offMax: [] as number[], onMax: [] as number[], offCpu: [] as number[], onCpu: [] as number[], counters: [] as number[], capture: [] as number[], bare: [] as number[] };
    const frames = { onLarge: [] as number[], dpf: [] as number[], largest: 0, meanFrame: [] as number[] };
    for (let i = 0; i < N; i++) {
      // Alternate which arm goes first, so neither always follows the other.
      const order: ("off" | "on")[] = i % 2 === 0 ? ["off", "on"] : ["on", "off"];
      for (const uso of order) {
        segmentation(uso);
        const max = bare(at("0"));
        const cpu = bare(at(FIXED_RATE));
        if (max.throughputBps !== null) (uso === "on" ? arms.onMax : arms.offMax).push(max.throughputBps);
        if (cpu.localCpuPercent !== null) (uso === "on" ? arms.onCpu : arms.offCpu).push(cpu.localCpuPercent);
      }
      // The observer effect where the evidence has the most to see: USO on, super-frames. The
      // three arms rotate, so each takes each place in turn.
      segmentation("on");
      const rotation = (["bare", "counters", "capture"] as const).map((_, k, all) => all[(k + i) % all.length]!);
      for (const arm of rotation) {
        if (arm === "bare") {
          const r = bare(at("0"));
          if (r.throughputBps !== null) arms.bare.push(r.throughputBps);
          continue;
        }
        const c = labCell(watched(arm === "capture"));
        if (c.status === "ok" && c.throughputBps !== null) arms[arm].push(c.throughputBps);
        if (arm === "counters") {
          if (c.evidence.meanFrameBytes != null) frames.meanFrame.push(c.evidence.meanFrameBytes);
        } else {
          frames.onLarge.push(c.evidence.largeFrames ?? 0);
          if (c.evidence.datagramsPerFrame != null) frames.dpf.push(c.evidence.datagramsPerFrame);
          frames.largest = Math.max(frames.largest, c.evidence.largestFrame ?? 0);
        }
      }
    }
    const mbit = (xs: number[]) => `${(mean(xs) / 1e6).toFixed(1)} Mbit/s (n=${xs.length})`;
    console.log(`bench/uso: veth, MTU 1500, ${PAYLOAD} B, iperf3 3.22 --gsro client, ${SECONDS} s runs, arms interleaved, n=${N}`);
    console.log(`  throughput at -b 0: USO off ${mbit(arms.offMax)}, on ${mbit(arms.onMax)}; on/off = ${ratio(arms.offMax, arms.onMax)}`);
    console.log(`  guest (sender) CPU at -b ${FIXED_RATE}: off ${mean(arms.offCpu).toFixed(1)} %, on ${mean(arms.onCpu).toFixed(1)} %; on/off = ${ratio(arms.offCpu, arms.onCpu)}`);
    console.log(`  evidence with USO on: counters: mean frame ${mean(frames.meanFrame).toFixed(0)} B; capture: ${mean(frames.onLarge).toFixed(0)} large frames per cell, largest ${frames.largest} B, ${mean(frames.dpf).toFixed(1)} datagrams per frame`);
    console.log(`  observer effect, bare iperf3 ${mbit(arms.bare)}:`);
    console.log(`    lab cell, counters only (capture.frames false) ${mbit(arms.counters)}; lab/bare = ${ratio(arms.bare, arms.counters)} (goal 0.98..1.02)`);
    console.log(`    lab cell, counters and capture (capture.frames true) ${mbit(arms.capture)}; lab/bare = ${ratio(arms.bare, arms.capture)}`);
  } finally {
    if (cfg) {
      try {
        host.exec(["bash", "-s"], { input: iperf3ServerStep(cfg).delete!, stdio: ["pipe", "pipe", "pipe"] });
      } catch {
        // The namespaces are removed below, with anything still in them.
      }
    }
    host.remove();
    guest.remove();
    image.remove();
  }
}

void main();
