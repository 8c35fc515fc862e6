import { execFileSync, spawn } from "node:child_process";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LabConfig } from "../../src/config/model";
import { loadStack } from "../../src/config/stackFile";
import { planCells } from "../../src/plan/benchmark/cells";
import { benchmarkStep } from "../../src/plan/benchmark/step";
import { iperf3ServerStep as serverStep } from "../../src/plan/iperf3-server/step";
import type { Step } from "../../src/plan/step";
import type { Transport } from "../../src/plan/transport/transport";
import { summarize } from "../../src/results/summary";
import { Namespace, canUseNamespaces, vethPair } from "../../src/sandbox/netns";
import { openImageRoot, type ImageRoot } from "../support/imageChroot";
import { guestCheckStep } from "../../src/plan/guest-check/step";

// The iperf3-server and benchmark steps run for real: the "host" namespace stands in for the
// KVM host (its veth end for the tap), the "guest" namespace runs the cell scripts through a
// test transport. All traffic stays on the veth pair between the two namespaces.

const ROOT = path.join(__dirname, "..", "..");
const stand = (name: string) => ({ name }) as Step;
const iperf3ServerStep = (cfg: LabConfig) => serverStep(cfg, { network: stand("network"), hostFirewall: stand("host-firewall") });
/** The benchmark step as the plan builds it, after stand-ins for the steps it waits for. */
const benchmark = (cfg: LabConfig, transport: Transport) =>
  benchmarkStep(cfg, transport, { iperf3Server: stand("iperf3-server"), guestOffloads: stand("guest-offloads"), hostOffloads: stand("host-offloads"), guestNetwork: stand("guest-network") });
/** A transport whose bash is `functionDefinition`: the guest is a network namespace. */
const netns = (description: string, functionDefinition: string): Transport => ({ kind: "netns", description, functionDefinition, secretEnv: {}, hostTools: [] });
/** The matrix's cells from a run of the benchmark step: its own parser. */
const parseBenchmarkOutput = (stdout: string, cfg: LabConfig) => benchmark(cfg, netns("unused", "")).parse(stdout).cells;
const TOOLS = ["iperf3", "tcpdump", "jq", "ss", "timeout"];

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

function labConfig(base: LabConfig, mtu: number, hostAddress: string, tap: string, port: number, senders: LabConfig["matrix"]["senders"] = ["plain"]): LabConfig {
  return {
    ...base,
    network: { ...base.network, hostAddress, mtu },
    guest: { ...base.guest, tapName: tap, iperf3Path: "iperf3" },
    // USO requested, so the evidence verdict (veth sends no super-frame: "no") is exercised.
    offloads: { ...base.offloads, mtu, uso: { ipv4: true } },
    iperf3: { ...base.iperf3, port },
    // The seed's payloads (MTU − 28 and 65507), 2 repetitions of 1 s.
    matrix: { ...base.matrix, payloads: [mtu - 28, 65507], senders, repetitions: 2, durationSeconds: 1, bitrates: ["200M"] },
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
    cfg = labConfig(loadStack(ROOT, "linux-uso-on"), mtu, veth.addrA, veth.ifA, 5200 + (mtu % 1000));
    transport = netns(`netns ${guest.name}`, `guest_exec() { ip netns exec ${guest.name} sh -s; }`);
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
    const started = server.parse(await runStep(host, server.create));
    expect(started).toMatchObject({ address: cfg.network.hostAddress, port: cfg.iperf3.port, manager: "daemon" });
    expect(started.version).toMatch(/^iperf 3\./);
    // Idempotent: a second create finds the same server.
    expect(server.parse(await runStep(host, server.create)).pid).toBe(started.pid);

    const step = benchmark(cfg, transport);
    const { cells, guestIperf3 } = step.parse(await runStep(host, step.create));
    // The guest namespace runs the host's own iperf3.
    expect(guestIperf3).toBe(started.version.split(" (")[0]);
    expect(cells.map((c) => c.id)).toEqual(planCells(cfg).map((c) => c.id));
    for (const c of cells) {
      expect(c.status, `${c.id}: ${c.error}`).toBe("ok");
      expect(c.throughputBps).toBeGreaterThan(0);
      expect(c.guestCpuPercent).not.toBeNull();
      expect(c.hostCpuPercent).not.toBeNull();
      // The tap's (here the veth's) receive counter saw the guest's datagrams, or their IP
      // fragments; a plain socket hands veth nothing above MTU + 14, so the kernel's filter
      // passed no frame, and a plain sender leaves USO not exercised.
      const e = c.evidence;
      const datagrams = c.packets!;
      expect(e.totalFrames).toBeGreaterThanOrEqual(datagrams * (c.fragmented ? Math.ceil((c.payloadBytes + 8) / (mtu - 20)) : 1));
      expect(e.largeFrames).toBe(0);
      expect(e.largestFrame).toBe(0);
      expect(e.datagramsPerFrame).toBe(1);
      expect(e.usoRequested).toBe(true);
      expect(e.usoEngaged).toBe("not-exercised");
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
    const cells = parseBenchmarkOutput(await runStep(host, benchmark(one, transport).create), one);
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
    const busyTransport = netns(
      "netns, server held busy for one cell",
      `guest_exec() {
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
    );
    const cells = parseBenchmarkOutput(await runStep(host, benchmark(three, busyTransport).create), three);
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
    const base = labConfig(loadStack(ROOT, "linux-uso-on"), 1500, veth.addrA, veth.ifA, 5216);
    const cfg: LabConfig = { ...base, matrix: { ...base.matrix, payloads: [1000], repetitions: 1 } };
    // The guest swallows the script and hangs, as a wedged guest agent would.
    const hung = netns("hung guest", `guest_exec() { cat >/dev/null; ip netns exec ${guest.name} sleep 100000; }`);
    const cells = parseBenchmarkOutput(await runStep(host, benchmark(cfg, hung).create), cfg);
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
    const base = labConfig(loadStack(ROOT, "linux-uso-on"), 1500, veth.addrA, veth.ifA, 5219);
    // An address the host does not have: the daemon starts, fails to bind and dies.
    const cfg: LabConfig = { ...base, network: { ...base.network, hostAddress: "10.199.19.77" } };
    await expect(runStep(host, iperf3ServerStep(cfg).create)).rejects.toThrow(/did not come up within 10 s/);
    expect(livePids(host)).toEqual([]);
    const missingBinary: LabConfig = { ...base, iperf3: { ...base.iperf3, binary: "/nonexistent/iperf3" } };
    await expect(runStep(host, iperf3ServerStep(missingBinary).create)).rejects.toThrow(/could not be started/);
  });
});

describe.skipIf(skipReason !== null)("USO evidence from a real UDP GSO sender over veth", () => {
  // iperf3 3.22 --gsro from the lab's guest image (the host's 3.12 has no --gsro), run in the
  // guest namespace from a read-only loop mount of the image. veth carries a UDP GSO buffer
  // whole when the sending end has tx-udp-segmentation on, and segments it first when off:
  // the same contrast the tap shows for a guest with USO on or off.
  let host: Namespace;
  let guest: Namespace;
  let image: ImageRoot;
  let cfg: LabConfig;
  let transport: Transport;
  let guestIf: string;

  beforeAll(async () => {
    image = await openImageRoot();
    host = new Namespace("olbh");
    guest = new Namespace("olbg");
    const veth = vethPair(host, guest, 1500, "10.199.17");
    guestIf = veth.ifB;
    const base = labConfig(loadStack(ROOT, "linux-uso-on"), 1500, veth.addrA, veth.ifA, 5217, ["plain", "gso"]);
    cfg = { ...base, guest: { ...base.guest, iperf3Path: "/usr/bin/iperf3" }, matrix: { ...base.matrix, payloads: [1472], repetitions: 1, bitrates: ["100M"] } };
    transport = image.transport(guest);
    await runStep(host, iperf3ServerStep(cfg).create);
  }, 1_800_000);

  afterAll(async () => {
    try {
      if (host !== undefined) await runStep(host, iperf3ServerStep(cfg).delete!);
    } finally {
      host?.remove();
      guest?.remove();
      image?.remove();
    }
  });

  const matrix = async (segmentation: "on" | "off") => {
    guest.exec(["ethtool", "-K", guestIf, "tx-udp-segmentation", segmentation]);
    const cells = parseBenchmarkOutput(await runStep(host, benchmark(cfg, transport).create), cfg);
    for (const c of cells) expect(c.status, `${c.id}: ${c.error}`).toBe("ok");
    return { plain: cells.find((c) => c.sender === "plain")!, gso: cells.find((c) => c.sender === "gso")! };
  };

  it("sees large frames of whole datagrams from the gso sender with segmentation on", async () => {
    const { plain, gso } = await matrix("on");
    const e = gso.evidence;
    console.log(`veth gso on: ${e.largeFrames} large frames of ${e.totalFrames}, largest ${e.largestFrame} B, ${e.datagramsPerFrame?.toFixed(1)} datagrams/frame, ${gso.packets} datagrams`);
    expect(e.usoEngaged).toBe("yes");
    expect(e.largeFrames).toBeGreaterThan(0);
    expect(e.largestFrame).toBeGreaterThan(1514);
    // A super-frame is one IP and UDP header (42 bytes with Ethernet) over whole datagrams.
    expect((e.largestFrame! - 42) % 1472).toBe(0);
    expect(e.largestFrame).toBeLessThanOrEqual(42 + 65535 - 28);
    expect(e.datagramsPerFrame).toBeGreaterThan(1);
    // Every datagram the receiver counted arrived in some frame the tap counted.
    expect(Math.round(e.datagramsPerFrame! * e.totalFrames!)).toBeGreaterThanOrEqual(gso.packets!);
    expect(plain.evidence).toMatchObject({ largeFrames: 0, usoEngaged: "not-exercised" });
  });

  it("guest-check passes the image's iperf3 for gso, and names an iperf3 without --gsro", async () => {
    const checked: LabConfig = { ...cfg, guest: { ...cfg.guest, linuxInterface: guestIf } };
    const ok = JSON.parse(await runStep(host, guestCheckStep(checked, transport, { guestDomain: stand("guest-domain") }).create));
    expect(ok).toMatchObject({ ok: true, missing: [], iperf3Version: expect.stringMatching(/^iperf 3\.2\d/) });
    // The host's bookworm iperf3 3.12, run in the same namespace without the image.
    const old = netns("netns", `guest_exec() { ip netns exec ${guest.name} sh -s; }`);
    const err = await runStep(host, guestCheckStep({ ...checked, guest: { ...checked.guest, iperf3Path: "iperf3" } }, old, { guestDomain: stand("guest-domain") }).create).catch((e: Error) => e.message);
    expect(err).toContain("guest-check: the guest image lacks: iperf3 with --gsro (3.21 or newer) for matrix.senders gso, not iperf 3.12");
  });

  it("gives no mean datagrams per frame when the capture stopped at its bound", async () => {
    guest.exec(["ethtool", "-K", guestIf, "tx-udp-segmentation", "on"]);
    const bounded: LabConfig = { ...cfg, matrix: { ...cfg.matrix, senders: ["gso"] }, capture: { ...cfg.capture, maxPackets: 10 } };
    const [gso] = parseBenchmarkOutput(await runStep(host, benchmark(bounded, transport).create), bounded);
    expect(gso!.evidence).toMatchObject({ largeFrames: 10, usoEngaged: "yes", datagramsPerFrame: null });
  });

  it("sees none with segmentation off, and says no for the gso sender", async () => {
    const { plain, gso } = await matrix("off");
    expect(gso.evidence).toMatchObject({ largeFrames: 0, largestFrame: 0, datagramsPerFrame: 1, usoEngaged: "no" });
    expect(gso.evidence.totalFrames).toBeGreaterThanOrEqual(gso.packets!);
    expect(plain.evidence.usoEngaged).toBe("not-exercised");
  });
});
