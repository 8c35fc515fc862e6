import { execFileSync, spawn } from "node:child_process";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LabConfig } from "../../src/config/model";
import { loadStack } from "../../src/config/stackFile";
import { benchmarkStep } from "../../src/plan/benchmark/benchmarkStep";
import { planCells } from "../../src/plan/benchmark/cells";
import { iperf3ServerStep } from "../../src/plan/benchmark/iperf3Server";
import type { Transport } from "../../src/plan/transport/transport";
import { parseBenchmarkOutput } from "../../src/results/benchmark";
import { parseIperf3ServerOutput } from "../../src/results/benchmarkServer";
import { summarize } from "../../src/results/summary";
import { Namespace, canUseNamespaces, vethPair } from "../../src/sandbox/netns";

// The iperf3-server and benchmark steps run for real: the "host" namespace stands in for the
// KVM host (its veth end for the tap), the "guest" namespace runs the cell scripts through a
// test transport. All traffic stays on the veth pair between the two namespaces.

const ROOT = path.join(__dirname, "..", "..");
const TOOLS = ["iperf3", "dumpcap", "tshark", "mergecap", "ss", "timeout"];

function missingTools(): string[] {
  return TOOLS.filter((t) => {
    try {
      execFileSync("sh", ["-c", `command -v ${t}`], { stdio: "ignore" });
      return false;
    } catch {
      return true;
    }
  });
}

const ns = canUseNamespaces();
const missing = missingTools();
const skipReason = !ns.ok ? ns.reason : missing.length > 0 ? `missing tools: ${missing.join(", ")}` : null;
if (skipReason !== null) console.warn(`test/lab/benchmark.test.ts skipped: ${skipReason}`);

/**
 * Runs a host step in the host namespace; resolves to stdout, rejects with stderr on a
 * non-zero exit. Asynchronous, so vitest's worker stays responsive during a long matrix.
 */
function runStep(host: Namespace, script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("ip", ["netns", "exec", host.name, "bash", "-s"], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(stdout) : reject(new Error(`step exited ${code}: ${stderr}`))));
    child.stdin.end(script);
  });
}

/** Processes still alive in a namespace, zombies aside (they have already exited). */
function livePids(n: Namespace): string[] {
  return execFileSync("ip", ["netns", "pids", n.name], { encoding: "utf8" })
    .split(/\s+/)
    .filter(Boolean);
}

function labConfig(base: LabConfig, mtu: number, hostAddress: string, tap: string, port: number): LabConfig {
  return {
    ...base,
    network: { ...base.network, hostAddress, mtu },
    guest: { ...base.guest, tapName: tap, iperf3Path: "iperf3" },
    // USO requested, so the evidence verdict (veth sends no super-frame: "no") is exercised.
    offloads: { ...base.offloads, mtu, uso: { ipv4: true } },
    iperf3: { ...base.iperf3, port },
    // The seed's payloads (MTU − 28 and 65507), 2 repetitions of 1 s.
    matrix: { ...base.matrix, payloads: [mtu - 28, 65507], repetitions: 2, durationSeconds: 1, bitrates: ["200M"] },
  };
}

describe.skipIf(skipReason !== null).each([1500, 9000])("iperf3 server and benchmark at MTU %i", (mtu) => {
  let host: Namespace;
  let guest: Namespace;
  let cfg: LabConfig;
  let transport: Transport;

  beforeAll(() => {
    host = new Namespace("olbh");
    guest = new Namespace("olbg");
    const veth = vethPair(host, guest, mtu, mtu === 1500 ? "10.199.15" : "10.199.90");
    cfg = labConfig(loadStack(ROOT, "linux-lab"), mtu, veth.addrA, veth.ifA, 5200 + (mtu % 1000));
    transport = { description: `netns ${guest.name}`, functionDefinition: `guest_exec() { ip netns exec ${guest.name} sh -s; }` };
  });

  afterAll(async () => {
    try {
      await runStep(host, iperf3ServerStep(cfg).delete!);
    } finally {
      host.remove();
      guest.remove();
    }
  });

  it("starts the server once, runs the matrix, parses it, and stops the server", async () => {
    const server = iperf3ServerStep(cfg);
    const started = parseIperf3ServerOutput(await runStep(host, server.create));
    expect(started).toMatchObject({ address: cfg.network.hostAddress, port: cfg.iperf3.port, manager: "daemon" });
    expect(started.version).toMatch(/^iperf 3\./);
    // Idempotent: a second create finds the same server.
    expect(parseIperf3ServerOutput(await runStep(host, server.create)).pid).toBe(started.pid);

    const stdout = await runStep(host, benchmarkStep(cfg, transport).create);
    const cells = parseBenchmarkOutput(stdout, cfg);
    expect(cells.map((c) => c.id)).toEqual(planCells(cfg).map((c) => c.id));
    for (const c of cells) {
      expect(c.status, `${c.id}: ${c.error}`).toBe("ok");
      expect(c.throughputBps).toBeGreaterThan(0);
      expect(c.guestCpuPercent).not.toBeNull();
      expect(c.hostCpuPercent).not.toBeNull();
      const capture = c.evidence.capture!;
      expect(capture.frames).toBeGreaterThan(0);
      expect(capture.frames).toBeLessThanOrEqual(cfg.capture.maxPackets);
      // veth segments nothing for a plain UDP socket: no frame beyond MTU + 14, so the
      // USO the stack asks for is reported as not engaged. A full datagram of MTU − 28 fills
      // the frame; IP fragments carry multiples of 8 bytes, so theirs may be a little shorter.
      if (c.fragmented) expect(capture.largestFrameBytes).toBeLessThanOrEqual(mtu + 14);
      else expect(capture.largestFrameBytes).toBe(mtu + 14);
      expect(capture.framesOverMtu).toBe(0);
      expect(c.evidence.usoRequested).toBe(true);
      expect(c.evidence.usoEngaged).toBe("no");
    }
    expect(cells.map((c) => c.fragmented)).toEqual([false, false, true, true]);

    const summary = summarize(cells);
    expect(summary.map((s) => [s.payloadBytes, s.throughputBps?.n])).toEqual([[mtu - 28, 2], [65507, 2]]);

    await runStep(host, server.delete!);
    expect(livePids(host)).toEqual([]);
    // Deleting what is gone succeeds.
    await runStep(host, server.delete!);
  });

  it("reports a dead server per cell without failing the step", async () => {
    await runStep(host, iperf3ServerStep(cfg).delete!);
    const one: LabConfig = { ...cfg, matrix: { ...cfg.matrix, payloads: [1000], repetitions: 1 } };
    const cells = parseBenchmarkOutput(await runStep(host, benchmarkStep(one, transport).create), one);
    expect(cells).toHaveLength(1);
    expect(cells[0]!.status).toBe("failed");
    expect(cells[0]!.error).toMatch(/Connection refused/);
  });

  it("a busy server fails its cell and the other cells keep their results", async () => {
    const server = iperf3ServerStep(cfg);
    await runStep(host, server.create);
    const three: LabConfig = { ...cfg, matrix: { ...cfg.matrix, payloads: [1000], repetitions: 3 } };
    const busyId = planCells(three)[1]!.id;
    const { hostAddress } = cfg.network;
    const { port } = cfg.iperf3;
    // For the middle cell only, another client holds the server while the cell runs.
    const busyTransport: Transport = {
      description: "netns, server held busy for one cell",
      functionDefinition: `guest_exec() {
  local s; s=$(cat)
  case "$s" in
    *${busyId}*)
      ip netns exec ${guest.name} iperf3 -c ${hostAddress} -p ${port} -u -b 1M -t 3 >/dev/null 2>&1 &
      local blocker=$! i
      for i in $(seq 100); do ip netns exec ${guest.name} ss -Htn state established "dport = :${port}" | grep -q . && break; sleep 0.05; done
      printf '%s\\n' "$s" | ip netns exec ${guest.name} sh -s
      local rc=$?
      wait "$blocker"
      return $rc ;;
    *) printf '%s\\n' "$s" | ip netns exec ${guest.name} sh -s ;;
  esac
}`,
    };
    const cells = parseBenchmarkOutput(await runStep(host, benchmarkStep(three, busyTransport).create), three);
    expect(cells.map((c) => c.status)).toEqual(["ok", "failed", "ok"]);
    expect(cells[1]!.error).toMatch(/server is busy/);
    expect(summarize(cells)[0]!.counts).toEqual({ ok: 2, failed: 1, invalid: 0 });
    await runStep(host, server.delete!);
    expect(livePids(host)).toEqual([]);
    expect(livePids(guest)).toEqual([]);
  });

  it("refuses to start when another program holds the port", async () => {
    const squatter = `${cfg.iperf3.binary} -s -D -p ${cfg.iperf3.port} -B ${cfg.network.hostAddress}`;
    host.bash(squatter);
    try {
      for (let i = 0; i < 100 && !host.bash(`ss -Hltn "sport = :${cfg.iperf3.port}"`).trim(); i++) host.bash("sleep 0.05");
      await expect(runStep(host, iperf3ServerStep(cfg).create)).rejects.toThrow(/already taken by another program/);
    } finally {
      for (const pid of livePids(host)) process.kill(Number(pid), "SIGKILL");
    }
  });
});

describe.skipIf(skipReason !== null)("a cell whose guest never answers", () => {
  let host: Namespace;
  let guest: Namespace;
  afterAll(() => {
    host?.remove();
    guest?.remove();
  });

  it("is killed at its deadline, with everything the transport started, and reported failed", async () => {
    host = new Namespace("olbh");
    guest = new Namespace("olbg");
    const veth = vethPair(host, guest, 1500, "10.199.16");
    const base = labConfig(loadStack(ROOT, "linux-lab"), 1500, veth.addrA, veth.ifA, 5216);
    const cfg: LabConfig = { ...base, matrix: { ...base.matrix, payloads: [1000], repetitions: 1 } };
    // The guest swallows the script and hangs, as a wedged guest agent would.
    const hung: Transport = { description: "hung guest", functionDefinition: `guest_exec() { cat >/dev/null; ip netns exec ${guest.name} sleep 100000; }` };
    const cells = parseBenchmarkOutput(await runStep(host, benchmarkStep(cfg, hung).create), cfg);
    expect(cells[0]!.status).toBe("failed");
    expect(cells[0]!.error).toMatch(/ran past its deadline and was killed/);
    expect(livePids(guest)).toEqual([]);
    expect(livePids(host)).toEqual([]);
  });
});

describe.skipIf(skipReason !== null)("an iperf3 server that cannot come up", () => {
  let host: Namespace;
  let guest: Namespace;
  afterAll(() => {
    host?.remove();
    guest?.remove();
  });

  it("is reported within the start bound, not waited on", async () => {
    host = new Namespace("olbh");
    guest = new Namespace("olbg");
    const veth = vethPair(host, guest, 1500, "10.199.19");
    const base = labConfig(loadStack(ROOT, "linux-lab"), 1500, veth.addrA, veth.ifA, 5219);
    // An address the host does not have: the daemon starts, fails to bind and dies.
    const cfg: LabConfig = { ...base, network: { ...base.network, hostAddress: "10.199.19.77" } };
    await expect(runStep(host, iperf3ServerStep(cfg).create)).rejects.toThrow(/did not come up within 10 s/);
    expect(livePids(host)).toEqual([]);
    const missingBinary: LabConfig = { ...base, iperf3: { ...base.iperf3, binary: "/nonexistent/iperf3" } };
    await expect(runStep(host, iperf3ServerStep(missingBinary).create)).rejects.toThrow(/could not be started/);
  });
});
