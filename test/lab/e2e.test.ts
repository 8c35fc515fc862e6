import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadStack } from "../../src/config/stackFile";
import { planLab } from "../../src/plan/lab";
import { transportFor } from "../../src/plan/transport";
import type { CellResult } from "../../src/results/cell";
import { ensureGuestImage } from "./guest-image/image";
import { Libvirtd } from "../../src/sandbox/libvirtd";
import { canUseNamespaces, Namespace } from "../../src/sandbox/netns";
import { runOnHost } from "../support/hostRunner";
import { PROJECT_DIR, runProgram, stackConfig, unwrapSecrets, type ProgramRun, type Registered } from "../support/programHarness";

// The whole lab for real: the Pulumi program (src/index.ts) with the linux-lab stack under
// setMocks, where every Command runs for real on a "KVM host" that is a network namespace
// with its own libvirtd. Then every delete in reverse order, as `pulumi destroy` would.

const STACK = "linux-lab";
const IMAGES = "/var/lib/offload-lab/images";
const RECORD_DIR = path.join(PROJECT_DIR, "test", "fixtures", "stdout", STACK);
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

describe.skipIf(!usable.ok)("end to end: linux-lab up, matrix, destroy", () => {
  let ns: Namespace;
  let lv: Libvirtd;
  let run: ProgramRun;
  const created: Created[] = [];
  const stepSeconds = new Map<string, number>();
  let destroyed = false;

  const host = () => ["nsenter", "-t", String(lv.pid), "-n", "-m"];

  async function execute(r: Registered): Promise<string> {
    const inputs = unwrapSecrets(r.inputs) as { create: string; delete?: string; environment?: Record<string, string>; interpreter?: string[] };
    expect(inputs.interpreter).toEqual(["/bin/bash", "-c"]);
    const env = inputs.environment ?? {};
    const start = Date.now();
    const res = await runOnHost(host(), inputs.create, env);
    stepSeconds.set(r.name, (Date.now() - start) / 1000);
    if (res.code !== 0) throw new Error(`step ${r.name} exited ${res.code}:\n${res.stderr.slice(-4000)}`);
    created.push({ name: r.name, delete: inputs.delete, env });
    if (process.env.RECORD_STDOUT === "1") {
      fs.mkdirSync(RECORD_DIR, { recursive: true });
      fs.writeFileSync(path.join(RECORD_DIR, `${r.name}.out`), res.stdout);
    }
    return res.stdout;
  }

  async function destroy(): Promise<string[]> {
    const failures: string[] = [];
    for (const c of [...created].reverse()) {
      if (c.delete === undefined) continue;
      const res = await runOnHost(host(), c.delete, c.env);
      if (res.code !== 0) failures.push(`${c.name}: exit ${res.code}: ${res.stderr.slice(-2000)}`);
    }
    destroyed = true;
    return failures;
  }

  beforeAll(async () => {
    const image = await timed("guest image", ensureGuestImage);
    console.log(`guest image: ${image.cacheHit ? "cache hit" : "built"} in ${image.seconds} s (${image.dir})`);
    // The stack names fixed paths on the KVM host; point them at the cached build.
    fs.mkdirSync(IMAGES, { recursive: true });
    for (const [file, target] of [["debian-guest.qcow2", image.baseImage], ["vmlinuz", image.kernel], ["initrd.img", image.initrd]] as const) {
      fs.rmSync(path.join(IMAGES, file), { force: true });
      fs.symlinkSync(target, path.join(IMAGES, file));
    }
    ns = new Namespace("ole2e");
    lv = Libvirtd.start(ns);
    run = await timed("up (all steps)", () => runProgram(STACK, stackConfig(STACK), execute));
  }, 1_800_000);

  afterAll(async () => {
    if (lv !== undefined && !destroyed) await destroy();
    lv?.stop();
    ns?.remove();
    console.log(`e2e step times: ${[...stepSeconds].map(([n, s]) => `${n} ${s.toFixed(1)} s`).join(", ")}`);
    console.log(`e2e phases: ${phases.map(([n, s]) => `${n} ${s.toFixed(1)} s`).join(", ")}`);
  }, 600_000);

  it("ran every step of the plan, each after what it depends on", () => {
    const cfg = loadStack(PROJECT_DIR, STACK);
    const plan = planLab(cfg, transportFor(cfg));
    const done = created.map((c) => c.name);
    expect([...done].sort()).toEqual(plan.map((s) => s.name).sort());
    for (const step of plan) {
      for (const dep of step.dependsOn) expect(done.indexOf(dep), `${dep} before ${step.name}`).toBeLessThan(done.indexOf(step.name));
    }
    console.log(`e2e phase matrix: ${stepSeconds.get("benchmark")?.toFixed(1)} s`);
  });

  it("has a result with throughput for every cell of the matrix", () => {
    const cells = run.outputs.cells as CellResult[];
    expect(cells.map((c) => c.id)).toEqual([
      "udp-1472B-mtu9000-uso-off-r1", "udp-1472B-mtu9000-uso-off-r2", "udp-8972B-mtu9000-uso-off-r1", "udp-8972B-mtu9000-uso-off-r2",
    ]);
    for (const c of cells) {
      expect(c.status, `${c.id}: ${c.error}`).toBe("ok");
      expect(c.throughputBps).toBeGreaterThan(0);
      expect(c.mtu).toBe(9000);
      expect(c.evidence.capture?.frames ?? 0).toBeGreaterThan(0);
    }
    const summary = run.outputs.summary as { payloadBytes: number; throughputBps: { n: number } }[];
    expect(summary.map((s) => [s.payloadBytes, s.throughputBps.n])).toEqual([[1472, 2], [8972, 2]]);
  });

  it("read back the network, the tap and the offloads as configured", () => {
    expect(run.outputs.network).toEqual({ network: "offload-lab", mode: "dedicated", bridge: "olbr0", mtu: 9000 });
    expect(run.outputs.guest).toMatchObject({ domain: { tap: "tap0", tapMtu: 9000, guestAddress: "10.77.0.10" } });
    const readback = run.outputs.offloadReadback as { guest: { mtu: { actual: number }; features: { feature: string; requested: string; actual: string }[] }; host: { devices: { role: string; features: { feature: string; requested: string; actual: string }[] }[] } };
    expect(readback.guest.mtu.actual).toBe(9000);
    for (const f of [...readback.guest.features, ...readback.host.devices.flatMap((d) => d.features)]) {
      expect(f.actual.split(" ")[0], f.feature).toBe(f.requested);
    }
    expect((run.outputs.fingerprint as { iperf3Guest: string | null }).iperf3Guest).toMatch(/^iperf 3\.\d+/);
  });

  it("leaves nothing behind after destroy", async () => {
    const failures = await timed("destroy", destroy);
    expect(failures).toEqual([]);
    expect(lv.virsh(["list", "--all", "--name"]).trim()).toBe("");
    expect(lv.virsh(["net-list", "--all", "--name"])).not.toContain("offload-lab");
    expect(fs.existsSync("/var/lib/libvirt/images/linux-uso-lab-overlay.qcow2")).toBe(false);
    expect(() => lv.exec(["ip", "link", "show", "tap0"])).toThrow();
    expect(() => lv.exec(["ip", "link", "show", "olbr0"])).toThrow();
    expect(lv.exec(["bash", "-c", "pgrep -x iperf3 || true"]).trim()).toBe("");
  });
});
