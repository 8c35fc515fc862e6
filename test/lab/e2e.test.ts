import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadStack } from "../../src/config/stackFile";
import { planLab } from "../../src/plan/lab";
import { transportFor } from "../../src/plan/transport";
import type { CellResult } from "../../src/results/cell";
import { ensureGuestImage } from "../../src/sandbox/guest-image/image";
import { Libvirtd } from "../../src/sandbox/libvirtd";
import { canUseNamespaces, Namespace } from "../../src/sandbox/netns";
import { runOnHost } from "../support/hostRunner";
import { PROJECT_DIR, runProgram, stackConfig, unwrapSecrets, type ProgramRun, type Registered, type StackConfig } from "../support/programHarness";
import { expectUsoLabOutputs } from "./usoLabAssertions";
import { NIC_ALIAS } from "../../src/plan/libvirt/domainXml";

// The whole lab for real: the Pulumi program (src/index.ts) under setMocks, where every
// Command runs for real on a "KVM host" that is a network namespace with its own libvirtd.
// linux-uso-off, then linux-uso-on, each up, matrix, then every delete in reverse order as
// `pulumi destroy` would. Then a device without USO under a stack that asks for it.

const STACKS = ["linux-uso-off", "linux-uso-on"] as const;
const IMAGES = "/var/lib/offload-lab/images";
// The daemon's images/ is the machine's: a directory of this run's own keeps its overlay apart
// from any other lab run on the machine (the stacks' guest name is shared).
const OVERLAY_DIR = `/var/lib/libvirt/images/offload-lab-e2e-${process.pid}`;
const OVERLAY = `${OVERLAY_DIR}/linux-uso-lab-overlay.qcow2`;

/** A stack's config as the engine would pass it, with this run's overlay directory. */
function e2eConfig(stack: string, guest: Record<string, unknown> = {}): StackConfig {
  const cfg = stackConfig(stack);
  const base = JSON.parse(cfg.config["offload-lab:guest"]!) as Record<string, unknown>;
  cfg.config["offload-lab:guest"] = JSON.stringify({ ...base, overlayDir: OVERLAY_DIR, ...guest });
  return cfg;
}
const usable = canUseNamespaces();
if (!usable.ok) console.log(`end-to-end lab skipped: ${usable.reason}`);

interface Created {
  readonly name: string;
  readonly delete?: string;
  readonly env: Record<string, string>;
}

const phases: [string, number][] = [];
async function timed<T>(phase: string, f: () => Promise<T>): Promise<T> {
  const start = Date.now();
  try {
    return await f();
  } finally {
    phases.push([phase, (Date.now() - start) / 1000]);
    console.log(`e2e phase ${phase}: ${((Date.now() - start) / 1000).toFixed(1)} s`);
  }
}

/** One stack brought up on its own namespace and libvirtd, and torn down again. */
class LabHost {
  readonly created: Created[] = [];
  readonly stepSeconds = new Map<string, number>();
  destroyed = false;
  private running = 0;
  private constructor(readonly ns: Namespace, readonly lv: Libvirtd, private readonly recordDir: string | null) {}

  static start(stack: string, record: boolean): LabHost {
    const ns = new Namespace("ole2e");
    return new LabHost(ns, Libvirtd.start(ns), record ? path.join(PROJECT_DIR, "test", "fixtures", "stdout", stack) : null);
  }

  private host(): string[] {
    return ["nsenter", "-t", String(this.lv.pid), "-n", "-m"];
  }

  readonly execute = async (r: Registered): Promise<string> => {
    const inputs = unwrapSecrets(r.inputs) as { create: string; delete?: string; environment?: Record<string, string>; interpreter?: string[] };
    expect(inputs.interpreter).toEqual(["/bin/bash", "-c"]);
    const env = inputs.environment ?? {};
    const start = Date.now();
    this.running++;
    const res = await runOnHost(this.host(), inputs.create, env).finally(() => this.running--);
    this.stepSeconds.set(r.name, (Date.now() - start) / 1000);
    console.log(`e2e step ${r.name}: exit ${res.code} after ${((Date.now() - start) / 1000).toFixed(1)} s`);
    // A failed create has still made what it made (pulumi keeps no state for it, but the
    // test's teardown must remove it): its delete runs too.
    this.created.push({ name: r.name, delete: inputs.delete, env });
    if (res.code !== 0) throw new Error(`step ${r.name} exited ${res.code}:\n${res.stderr.slice(-4000)}`);
    if (this.recordDir !== null && process.env.RECORD_STDOUT === "1") {
      fs.mkdirSync(this.recordDir, { recursive: true });
      fs.writeFileSync(path.join(this.recordDir, `${r.name}.out`), res.stdout);
    }
    return res.stdout;
  };

  async destroy(): Promise<string[]> {
    // A failed deployment may still have steps running that do not depend on the failed one.
    while (this.running > 0) await new Promise((r) => setTimeout(r, 200));
    const failures: string[] = [];
    for (const c of [...this.created].reverse()) {
      if (c.delete === undefined) continue;
      const res = await runOnHost(this.host(), c.delete, c.env);
      if (res.code !== 0) failures.push(`${c.name}: exit ${res.code}: ${res.stderr.slice(-2000)}`);
    }
    this.destroyed = true;
    return failures;
  }

  /** Nothing of the lab is left on the host. */
  expectEmpty(): void {
    expect(this.lv.virsh(["list", "--all", "--name"]).trim()).toBe("");
    expect(this.lv.virsh(["net-list", "--all", "--name"])).not.toContain("offload-lab");
    expect(fs.existsSync(OVERLAY)).toBe(false);
    expect(() => this.lv.exec(["ip", "link", "show", "tap0"])).toThrow();
    expect(() => this.lv.exec(["ip", "link", "show", "olbr0"])).toThrow();
    // Only this namespace's processes: other labs on the machine run iperf3 servers of their own.
    expect(this.lv.exec(["bash", "-c", "pgrep --ns $$ --nslist net -x iperf3 || true"]).trim()).toBe("");
  }

  async stop(): Promise<void> {
    if (!this.destroyed) await this.destroy();
    this.lv.stop();
    this.ns.remove();
    console.log(`e2e step times: ${[...this.stepSeconds].map(([n, s]) => `${n} ${s.toFixed(1)} s`).join(", ")}`);
  }
}

beforeAll(async () => {
  if (!usable.ok) return;
  const image = await timed("guest image", ensureGuestImage);
  console.log(`guest image: ${image.cacheHit ? "cache hit" : "built"} in ${image.seconds} s (${image.dir})`);
  // The stacks name fixed paths on the KVM host; point them at the cached build.
  fs.mkdirSync(IMAGES, { recursive: true });
  for (const [file, target] of [["debian-guest.qcow2", image.baseImage], ["vmlinuz", image.kernel], ["initrd.img", image.initrd]] as const) {
    fs.rmSync(path.join(IMAGES, file), { force: true });
    fs.symlinkSync(target, path.join(IMAGES, file));
  }
  fs.mkdirSync(OVERLAY_DIR, { recursive: true });
}, 1_800_000);

afterAll(() => {
  fs.rmSync(OVERLAY_DIR, { recursive: true, force: true });
  console.log(`e2e phases: ${phases.map(([n, s]) => `${n} ${s.toFixed(1)} s`).join(", ")}`);
});

describe.skipIf(!usable.ok).each(STACKS)("end to end: %s up, matrix, destroy", (stack) => {
  let lab: LabHost;
  let run: ProgramRun;

  beforeAll(async () => {
    lab = LabHost.start(stack, true);
    run = await timed(`${stack} up (all steps)`, () => runProgram(stack, e2eConfig(stack), lab.execute));
  }, 1_800_000);

  afterAll(async () => {
    await lab?.stop();
  }, 600_000);

  it("ran every step of the plan, each after what it depends on", () => {
    const cfg = loadStack(PROJECT_DIR, stack);
    const plan = planLab(cfg, transportFor(cfg));
    const done = lab.created.map((c) => c.name);
    expect([...done].sort()).toEqual(plan.map((s) => s.name).sort());
    for (const step of plan) {
      for (const dep of step.dependsOn) expect(done.indexOf(dep), `${dep} before ${step.name}`).toBeLessThan(done.indexOf(step.name));
    }
    phases.push([`${stack} matrix`, lab.stepSeconds.get("benchmark") ?? NaN]);
    console.log(`e2e phase ${stack} matrix: ${lab.stepSeconds.get("benchmark")?.toFixed(1)} s`);
  });

  it("shows USO engaged or absent as the stack asks, per sender, from the outputs alone", () => {
    const uso = stack === "linux-uso-on" ? "on" : "off";
    for (const c of run.outputs.cells as CellResult[]) {
      const e = c.evidence;
      console.log(`e2e ${c.id}: ${(c.throughputBps! / 1e6).toFixed(1)} Mbit/s received, guest CPU ${c.guestCpuPercent?.toFixed(1)} %, ` +
        `${e.largeFrames} large frames of ${e.totalFrames}, largest ${e.largestFrame} B, ${e.datagramsPerFrame?.toFixed(2)} datagrams/frame, USO ${e.usoEngaged}`);
    }
    expectUsoLabOutputs(run.outputs, { uso, mtu: 1500, payloadBytes: 1472, senders: ["plain", "gso"], repetitions: 2 });
    const summary = run.outputs.summary as { payloadBytes: number; sender: string; throughputBps: { n: number } }[];
    expect(summary.map((s) => [s.payloadBytes, s.sender, s.throughputBps.n])).toEqual([[1472, "plain", 2], [1472, "gso", 2]]);
  });

  it("read back the network, the tap and the offloads as configured", () => {
    expect(run.outputs.network).toEqual({ network: "offload-lab", mode: "dedicated", bridge: "olbr0", mtu: 1500 });
    expect(run.outputs.guest).toMatchObject({ domain: { tap: "tap0", tapMtu: 1500, guestAddress: "10.77.0.10" } });
    // Before the matrix, the guest itself had its address and a route to the host.
    expect(run.outputs.guest).toMatchObject({ network: { interface: "eth0", operstate: "up", addresses: ["10.77.0.10/24"] } });
    expect((run.outputs.guest as { network: { route: string } }).network.route).toMatch(/^10\.77\.0\.1 dev eth0 src 10\.77\.0\.10\b/);
    const readback = run.outputs.offloadReadback as { guest: { features: { feature: string; requested: string; actual: string }[] }; host: { devices: { features: { feature: string; requested: string; actual: string }[] }[] } };
    for (const f of [...readback.guest.features, ...readback.host.devices.flatMap((d) => d.features)]) {
      expect(f.actual.split(" ")[0], f.feature).toBe(f.requested);
    }
    expect((run.outputs.fingerprint as { iperf3Guest: string | null }).iperf3Guest).toMatch(/^iperf 3\.2\d/);
  });

  it("leaves nothing behind after destroy", async () => {
    const failures = await timed(`${stack} destroy`, () => lab.destroy());
    expect(failures).toEqual([]);
    lab.expectEmpty();
  });
});

describe.skipIf(!usable.ok)("end to end: a device that does not offer USO under a stack that asks for it", () => {
  let lab: LabHost;
  afterAll(async () => {
    await lab?.stop();
  }, 600_000);

  it("fails at guest-offloads with the read-back, saying the device does not offer it, and tears down clean", async () => {
    lab = LabHost.start("linux-uso-on", false);
    const cfg = e2eConfig("linux-uso-on", { virtioNetFeatures: { host_uso: "off" } });
    // Pulumi's own promises behind the failed outputs reject unobserved, as under the engine,
    // which reports them as the deployment's error. Collect them and check each is ours.
    const vitestListeners = process.listeners("unhandledRejection");
    process.removeAllListeners("unhandledRejection");
    const unobserved: unknown[] = [];
    process.on("unhandledRejection", (e) => unobserved.push(e));
    let err: unknown;
    try {
      err = await timed("no-USO device up", () => runProgram("linux-uso-on", cfg, lab.execute).then(() => null, (e: unknown) => e));
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      process.removeAllListeners("unhandledRejection");
      for (const l of vitestListeners) process.on("unhandledRejection", l);
    }
    for (const e of unobserved) expect(String(e)).toContain("guest-offloads");
    expect(String(err)).toContain("step guest-offloads exited 1");
    expect(String(err)).toContain("guest eth0: tx-udp-segmentation requested on, actual off [fixed]");
    expect(String(err)).toContain("the virtio-net device does not offer USO");
    expect(lab.created.map((c) => c.name)).not.toContain("benchmark");
    // The override reached QEMU: the running device has host_uso off, the rest their defaults.
    const qom = (property: string) => JSON.parse(lab.lv.virsh(["qemu-monitor-command", "linux-uso-lab",
      JSON.stringify({ execute: "qom-get", arguments: { path: `/machine/peripheral/${NIC_ALIAS}`, property } })])).return;
    expect(qom("host_uso")).toBe(false);
    expect(qom("guest_uso4")).toBe(true);
    expect(await timed("no-USO device destroy", () => lab.destroy())).toEqual([]);
    lab.expectEmpty();
  }, 1_800_000);
});
