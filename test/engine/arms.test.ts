import * as fs from "node:fs";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadStack } from "../../src/config/stackFile";
import { labStackOf } from "../../src/engine/stack";
import { planLab } from "../../src/plan/lab";
import type { CellResult } from "../../src/results/cell";
import { canUseNamespaces } from "../../src/sandbox/netns";
import { startSandbox, type Sandbox } from "../../src/sandbox/session";
import { privateBackend, pulumiCli } from "../support/engine";
import { PROJECT_DIR } from "../support/programHarness";
import { expectSandboxLabGone, PhaseTimes } from "../support/sandboxLab";
import { expectArmsLabOutputs } from "../support/usoLabAssertions";

// In-lab arms end to end on the real engine: one `pulumi up` of sandbox-mtu9000-uso-arms (an
// MTU 9000 network, tap and guest; every cell run in both USO arms, the benchmark switching the
// guest's tx-udp-segmentation and reading it back before each cell; evidence from the tap's
// counters alone), then `pulumi destroy`. The verdicts are read from the stack outputs alone.
// It runs with RECORD_STDOUT=1 and writes every step's stdout from the state to
// test/fixtures/stdout/<stack>/, the recordings the parser tests replay.

const STACK = "sandbox-mtu9000-uso-arms";
const ns = canUseNamespaces();
const cli = pulumiCli();
// The main-job test proves the same claims on the main job's own run of this stack (its first
// round), so this up runs only to record the fixtures: RECORD_STDOUT=1.
const recording = process.env.RECORD_STDOUT === "1" ? null : "runs only with RECORD_STDOUT=1 (test/engine/mainJob.test.ts asserts the same on the main job's run)";
const skip = !ns.ok ? ns.reason : !cli.ok ? cli.reason : recording;
if (skip !== null) console.log(`in-lab arms test skipped: ${skip}`);

interface StateResource {
  readonly urn: string;
  readonly type: string;
  readonly outputs?: { stdout?: unknown };
}

const stepOf = (r: StateResource) => r.urn.split("::").pop()!;

/** A step's stdout from the export: over SSH the provider keeps it secret (see usoLab.test.ts). */
function plainStdout(r: StateResource): string {
  const stdout = r.outputs?.stdout;
  if (typeof stdout === "string") return stdout;
  const plaintext = (stdout as { plaintext?: unknown } | undefined)?.plaintext;
  if (typeof plaintext !== "string") throw new Error(`${r.urn}: no stdout in the state`);
  return JSON.parse(plaintext) as string;
}

const phases = new PhaseTimes();

describe.skipIf(skip !== null)(`in-lab arms on the real engine and the sandbox host: ${STACK}`, () => {
  let backend: ReturnType<typeof privateBackend>;
  let sandbox: Sandbox;
  let stack: Stack;
  let outputs: Record<string, unknown>;
  let log = "";
  const collect = (s: string) => void (log += s);

  beforeAll(async () => {
    backend = privateBackend();
    sandbox = await startSandbox(PROJECT_DIR, (l) => console.log(l));
    stack = await labStackOf(PROJECT_DIR, { stack: STACK, host: sandbox.labHost });
    const up = await phases.timed(`${STACK} up`, () => stack.up({ onOutput: collect }));
    outputs = Object.fromEntries(Object.entries(up.outputs).map(([k, v]) => [k, v.value]));
  }, 1_800_000);

  afterAll(async () => {
    try {
      await stack?.destroy({ onOutput: collect }).catch(() => undefined);
    } finally {
      await sandbox?.stop();
      backend?.remove();
      console.log(`in-lab arms times: ${phases}`);
    }
  }, 600_000);

  it("ran every step of the plan, and recorded each step's stdout when asked", async () => {
    const deployment = (await stack.exportStack()).deployment as { resources: StateResource[] };
    const steps = deployment.resources.filter((r) => r.type === "command:remote:Command");
    expect(steps.map(stepOf).sort()).toEqual(planLab(loadStack(PROJECT_DIR, STACK)).steps.map((s) => s.name).sort());
    if (process.env.RECORD_STDOUT !== "1") return;
    const dir = path.join(PROJECT_DIR, "test", "fixtures", "stdout", STACK);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    for (const r of steps) fs.writeFileSync(path.join(dir, `${stepOf(r)}.out`), plainStdout(r));
  });

  it("switched and read back each cell's arm, and shows USO engaged at 8972 B with the arm on only", () => {
    for (const c of outputs.cells as CellResult[]) {
      const e = c.evidence;
      console.log(`${c.id}: ${c.status} ${((c.throughputBps ?? 0) / 1e6).toFixed(1)} Mbit/s, guest CPU ${c.guestCpuPercent?.toFixed(1)} %, ` +
        `mean frame ${e.meanFrameBytes?.toFixed(0)} B over ${e.totalFrames} frames, USO ${e.usoEngaged}, lost ${c.lostPackets} ` +
        `(socket ${c.receiver?.socketDrops}, rcvbuf ${c.receiver?.socketBufferBytes}), ${c.wallSeconds} s wall`);
    }
    expectArmsLabOutputs(outputs, { mtu: 9000, payloads: [8972, 65507], bitrates: ["0", "100M"], repetitions: 2 });
  });

  it("pulumi destroy leaves nothing on the host", async () => {
    const d = await phases.timed(`${STACK} destroy`, () => stack.destroy({ onOutput: collect }));
    expect(d.summary.resourceChanges?.delete).toBeGreaterThan(0);
    expectSandboxLabGone(sandbox.host.lv);
  }, 600_000);
});
