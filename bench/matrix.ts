// Benchmark of the benchmark: how much wall time the lab's loop adds around iperf3, and
// whether the throughput it reports matches a bare iperf3 run on the same path in the same
// run. Runs the real iperf3-server and benchmark steps between two network namespaces
// (traffic stays on their veth pair). Prints its ratios; needs root, iperf3, tcpdump and jq.
import * as path from "node:path";
import type { LabConfig } from "../src/config/model";
import { loadStack } from "../src/config/stackFile";
import { planCells } from "../src/plan/benchmark/cells";
import { iperf3ClientArgs } from "../src/plan/benchmark/guestCell";
import { benchmarkStep } from "../src/plan/benchmark/step";
import { iperf3ServerStep as serverStep } from "../src/plan/iperf3-server/step";
import type { Step } from "../src/plan/step";
import type { Transport } from "../src/plan/transport/transport";
import { parseIperf3 } from "../src/results/iperf3";
import { summarize } from "../src/results/summary";
import { Namespace, canUseNamespaces, vethPair } from "../src/sandbox/netns";

const stand = (name: string) => ({ name }) as Step;
/** The benchmark step after stand-ins for the steps it waits for; `parse` is its own parser. */
const benchmark = (cfg: LabConfig, transport: Transport) =>
  benchmarkStep(cfg, transport, { iperf3Server: stand("iperf3-server"), guestOffloads: stand("guest-offloads"), hostOffloads: stand("host-offloads"), guestNetwork: stand("guest-network") });
const iperf3ServerStep = (cfg: LabConfig) => serverStep(cfg, { network: stand("network"), hostFirewall: stand("host-firewall") });

const MTU = 1500;
/** The config's default cell length: what a QE engineer's matrix runs. */
const SECONDS = 10;

function main(): void {
  const ns = canUseNamespaces();
  if (!ns.ok) {
    console.log(`bench/matrix: skipped (${ns.reason})`);
    return;
  }
  const host = new Namespace("olbh");
  const guest = new Namespace("olbg");
  let cfg: LabConfig | undefined;
  try {
    const veth = vethPair(host, guest, MTU, "10.199.17");
    const base = loadStack(path.join(__dirname, ".."), "linux-uso-on");
    cfg = {
      ...base,
      network: { ...base.network, hostAddress: veth.addrA, mtu: MTU },
      guest: { ...base.guest, tapName: veth.ifA, iperf3Path: "iperf3" },
      offloads: { ...base.offloads, mtu: MTU },
      iperf3: { ...base.iperf3, port: 5217 },
      matrix: { ...base.matrix, payloads: [MTU - 28, 65507], senders: ["plain"], repetitions: 3, durationSeconds: SECONDS, bitrates: ["1G"] },
    };
    const transport: Transport = { kind: "netns", description: "netns", functionDefinition: `guest_exec() { ip netns exec ${guest.name} sh -s; }`, secretEnv: {}, hostTools: [] };
    const runHost = (script: string) => host.exec(["bash", "-s"], { input: script, stdio: ["pipe", "pipe", "pipe"], maxBuffer: 64 << 20 });
    runHost(iperf3ServerStep(cfg).create);

    const cells = planCells(cfg);
    const started = process.hrtime.bigint();
    const step = benchmark(cfg, transport);
    const stdout = runHost(step.create);
    const wall = Number(process.hrtime.bigint() - started) / 1e9;
    const results = step.parse(stdout).cells;
    const iperf3Seconds = cells.reduce((a, c) => a + c.durationSeconds, 0);
    const failed = results.filter((r) => r.status !== "ok").map((r) => `${r.id}: ${r.error}`);
    if (failed.length > 0) console.log(`bench/matrix: cells not ok:\n  ${failed.join("\n  ")}`);

    // Bare iperf3, same client arguments, same path, same server, right after the matrix.
    // As many bare runs as the matrix has cells, so both means have the same n.
    const bareRuns = new Map<number, number[]>();
    let bareWall = 0;
    for (const cell of cells) {
      const t0 = process.hrtime.bigint();
      const out = guest.exec(["iperf3", ...iperf3ClientArgs(cfg, cell)], { maxBuffer: 64 << 20 });
      bareWall += Number(process.hrtime.bigint() - t0) / 1e9;
      const bps = parseIperf3(out).throughputBps;
      if (bps !== null) bareRuns.set(cell.payloadBytes, [...(bareRuns.get(cell.payloadBytes) ?? []), bps]);
    }
    const bare = new Map([...bareRuns].map(([p, v]) => [p, v.reduce((a, b) => a + b, 0) / v.length]));
    // iperf3's own setup and result exchange, which no loop around it can remove.
    const bareWallPerCell = bareWall / cells.length;

    console.log(`bench/matrix: ${cells.length} cells of ${SECONDS} s at MTU ${MTU}, -b ${cfg.matrix.bitrates[0]}`);
    console.log(`  matrix wall time / sum of iperf3 durations = ${wall.toFixed(2)} s / ${iperf3Seconds} s = ${(wall / iperf3Seconds).toFixed(3)} (goal <= 1.05)`);
    console.log(
      `  of which iperf3 itself: a bare run takes ${bareWallPerCell.toFixed(2)} s for -t ${SECONDS}; ` +
        `matrix wall / (cells x bare wall) = ${(wall / (cells.length * bareWallPerCell)).toFixed(3)} (the loop's own cost)`,
    );
    for (const s of summarize(results)) {
      const ref = bare.get(s.payloadBytes);
      const lab = s.throughputBps?.mean;
      const ratio = ref && lab ? (lab / ref).toFixed(3) : "n/a";
      const mbit = (v: number) => (v / 1e6).toFixed(1);
      const runs = bareRuns.get(s.payloadBytes) ?? [];
      const labRange = s.throughputBps ? `${mbit(s.throughputBps.min)}..${mbit(s.throughputBps.max)}` : "n/a";
      const bareRange = runs.length > 0 ? `${mbit(Math.min(...runs))}..${mbit(Math.max(...runs))}` : "n/a";
      console.log(
        `  payload ${s.payloadBytes} B: lab ${lab ? mbit(lab) : "n/a"} Mbit/s (${labRange}, n=${s.throughputBps?.n ?? 0}), ` +
          `bare iperf3 ${ref ? mbit(ref) : "n/a"} Mbit/s (${bareRange}, n=${runs.length}), lab / bare = ${ratio} (goal 0.97..1.03)`,
      );
    }
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
  }
}

main();
