import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadStack } from "../../src/config/stackFile";
import { labStackOf } from "../../src/engine/stack";
import { NIC_ALIAS } from "../../src/plan/guest-domain/domainXml";
import { planLab } from "../../src/plan/lab";
import type { CellResult } from "../../src/results/cell";
import { canUseNamespaces } from "../../src/sandbox/netns";
import { startSandbox, type Sandbox } from "../../src/sandbox/session";
import { privateBackend, pulumiCli } from "../support/engine";
import { PROJECT_DIR } from "../support/programHarness";
import { expectSandboxLabGone, PhaseTimes, SANDBOX_DOMAIN } from "../support/sandboxLab";
import { expectUsoLabOutputs } from "../support/usoLabAssertions";

// The USO lab end to end through the real engine: sandbox-uso-off, then sandbox-uso-on, each
// `pulumi up` (the guest boots under TCG, the agent carries the guest steps, the matrix runs)
// and `pulumi destroy`; then a device without USO under a stack that asks for it. The verdicts
// are read from the stack outputs alone. With RECORD_STDOUT=1 every step's stdout is written
// from the state to test/fixtures/stdout/<stack>/, the recordings the parser tests replay.

const STACKS = ["sandbox-uso-off", "sandbox-uso-on"] as const;
const ns = canUseNamespaces();
const cli = pulumiCli();
const skip = !ns.ok ? ns.reason : !cli.ok ? cli.reason : null;
if (skip !== null) console.log(`USO lab tests skipped: ${skip}`);

interface StateResource {
  readonly urn: string;
  readonly type: string;
  readonly outputs?: { stdout?: unknown };
}

/** The step a command resource runs: its name, the last part of its URN. */
const stepOf = (r: StateResource) => r.urn.split("::").pop()!;

/**
 * A step's stdout from `pulumi stack export --show-secrets`: over SSH the provider keeps it
 * secret (the connection holds the key), which the export shows as its JSON-encoded plaintext.
 */
function plainStdout(r: StateResource): string {
  const stdout = r.outputs?.stdout;
  if (typeof stdout === "string") return stdout;
  const plaintext = (stdout as { plaintext?: unknown } | undefined)?.plaintext;
  if (typeof plaintext !== "string") throw new Error(`${r.urn}: no stdout in the state`);
  return JSON.parse(plaintext) as string;
}

const phases = new PhaseTimes();
const timed = <T>(what: string, f: () => Promise<T>) => phases.timed(what, f);

describe.skipIf(skip !== null)("the USO lab on the real engine and the sandbox host", () => {
  let backend: ReturnType<typeof privateBackend>;
  let sandbox: Sandbox;
  const stacks = new Map<string, Stack>();
  let log = "";
  const collect = (s: string) => void (log += s);

  async function commands(stack: Stack): Promise<StateResource[]> {
    const deployment = (await stack.exportStack()).deployment as { resources: StateResource[] };
    return deployment.resources.filter((r) => r.type === "command:remote:Command");
  }

  beforeAll(async () => {
    backend = privateBackend();
    sandbox = await startSandbox(PROJECT_DIR, (l) => console.log(l));
    for (const s of STACKS) stacks.set(s, await labStackOf(PROJECT_DIR, { stack: s, host: sandbox.labHost }));
  }, 1_800_000);

  afterAll(async () => {
    try {
      for (const s of stacks.values()) await s.destroy({ onOutput: collect }).catch(() => undefined);
    } finally {
      await sandbox?.stop();
      backend?.remove();
      console.log(`USO lab times: ${phases}`);
    }
  }, 600_000);

  describe.each(STACKS)("%s: up, matrix, destroy", (name) => {
    const uso = name === "sandbox-uso-on" ? "on" : "off";
    let outputs: Record<string, unknown>;

    beforeAll(async () => {
      const up = await timed(`${name} up`, () => stacks.get(name)!.up({ onOutput: collect }));
      outputs = Object.fromEntries(Object.entries(up.outputs).map(([k, v]) => [k, v.value]));
    }, 1_800_000);

    it("ran every step of the plan, and recorded each step's stdout when asked", async () => {
      const cfg = loadStack(PROJECT_DIR, name);
      const steps = await commands(stacks.get(name)!);
      expect(steps.map(stepOf).sort()).toEqual(planLab(cfg).steps.map((s) => s.name).sort());
      if (process.env.RECORD_STDOUT !== "1") return;
      const dir = path.join(PROJECT_DIR, "test", "fixtures", "stdout", name);
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir, { recursive: true });
      for (const r of steps) fs.writeFileSync(path.join(dir, `${stepOf(r)}.out`), plainStdout(r));
    });

    it("shows USO engaged or absent as the stack asks, per sender, from the outputs alone", () => {
      for (const c of outputs.cells as CellResult[]) {
        const e = c.evidence;
        console.log(`${c.id}: ${(c.throughputBps! / 1e6).toFixed(1)} Mbit/s received, guest CPU ${c.guestCpuPercent?.toFixed(1)} %, ` +
          `${e.largeFrames} large frames of ${e.totalFrames}, largest ${e.largestFrame} B, ${e.datagramsPerFrame?.toFixed(2)} datagrams/frame, USO ${e.usoEngaged}`);
      }
      expectUsoLabOutputs(outputs, { uso, mtu: 1500, payloadBytes: 1472, senders: ["plain", "gso"], repetitions: 2, counters: true });
      const summary = outputs.summary as { payloadBytes: number; sender: string; throughputBps: { n: number } }[];
      expect(summary.map((s) => [s.payloadBytes, s.sender, s.throughputBps.n])).toEqual([[1472, "plain", 2], [1472, "gso", 2]]);
    });

    it("read back the network, the tap and the offloads as configured", () => {
      expect(outputs.network).toEqual({ network: "offload-lab", mode: "dedicated", bridge: "olbr0", mtu: 1500 });
      expect(outputs.guest).toMatchObject({ domain: { tap: "tap0", tapMtu: 1500, guestAddress: "10.77.0.10" } });
      // Before the matrix, the guest itself had its address and a route to the host.
      expect(outputs.guest).toMatchObject({ network: { interface: "eth0", operstate: "up", addresses: ["10.77.0.10/24"] } });
      expect((outputs.guest as { network: { route: string } }).network.route).toMatch(/^10\.77\.0\.1 dev eth0 src 10\.77\.0\.10\b/);
      const readback = outputs.offloadReadback as { guest: { features: { feature: string; requested: string; actual: string }[] }; host: { devices: { features: { feature: string; requested: string; actual: string }[] }[] } };
      for (const f of [...readback.guest.features, ...readback.host.devices.flatMap((d) => d.features)]) {
        expect(f.actual.split(" ")[0], f.feature).toBe(f.requested);
      }
      expect((outputs.fingerprint as { iperf3Guest: string | null }).iperf3Guest).toMatch(/^iperf 3\.2\d/);
    });

    it("pulumi destroy leaves nothing on the host", async () => {
      const d = await timed(`${name} destroy`, () => stacks.get(name)!.destroy({ onOutput: collect }));
      expect(d.summary.resourceChanges?.delete).toBeGreaterThan(0);
      expectSandboxLabGone(sandbox.host.lv);
    }, 600_000);
  });

  // Issue 19: the same lab with every guest step and the benchmark's cells carried over SSH
  // (guest.access ssh), the guest's root key lent by the sandbox and handed to the guest at boot
  // as a systemd credential. One up and one destroy, on this file's sandbox.
  describe("sandbox-ssh: the guest reached over SSH, up, matrix, destroy", () => {
    const name = "sandbox-ssh";
    let outputs: Record<string, unknown>;
    let sshLog: string;
    let authorizedKeys: string;
    let credential: string;

    beforeAll(async () => {
      const stack = await labStackOf(PROJECT_DIR, { stack: name, host: sandbox.labHost });
      stacks.set(name, stack);
      const up = await timed(`${name} up`, () => stack.up({ onOutput: collect }));
      outputs = Object.fromEntries(Object.entries(up.outputs).map(([k, v]) => [k, v.value]));
      // A witness apart from SSH: the guest agent (its channel is in every domain) reads sshd's
      // journal and root's authorized_keys; libvirt gives the running domain's XML.
      const agent = (file: string, args: string[]) => {
        const started = JSON.parse(sandbox.host.lv.virsh(["qemu-agent-command", SANDBOX_DOMAIN,
          JSON.stringify({ execute: "guest-exec", arguments: { path: file, arg: args, "capture-output": true } })])) as { return: { pid: number } };
        for (;;) {
          const status = JSON.parse(sandbox.host.lv.virsh(["qemu-agent-command", SANDBOX_DOMAIN,
            JSON.stringify({ execute: "guest-exec-status", arguments: { pid: started.return.pid } })])).return as { exited: boolean; "out-data"?: string };
          if (status.exited) return Buffer.from(status["out-data"] ?? "", "base64").toString("utf8");
          execFileSync("sleep", ["0.5"]);
        }
      };
      sshLog = agent("/usr/bin/journalctl", ["--no-pager", "-o", "cat", "-u", "ssh.service"]);
      authorizedKeys = agent("/bin/cat", ["/root/.ssh/authorized_keys"]);
      const xml = path.join(sandbox.host.lv.dir, "ssh-domain.xml");
      fs.writeFileSync(xml, sandbox.host.lv.virsh(["dumpxml", SANDBOX_DOMAIN]));
      credential = execFileSync("xmlstarlet", ["sel", "-t", "-v", "/domain/sysinfo/oemStrings/entry", xml], { encoding: "utf8" });
    }, 1_800_000);

    it("ran every step of the plan, the guest's over SSH with the sandbox's guest key, which the domain handed root at boot", async () => {
      const cfg = loadStack(PROJECT_DIR, name);
      const plan = planLab(cfg);
      expect(plan.transport.kind).toBe("ssh");
      expect((await commands(stacks.get(name)!)).map(stepOf).sort()).toEqual(plan.steps.map((s) => s.name).sort());
      const publicKey = sandbox.labHost.guestKey!.publicKey;
      expect(credential).toBe(`io.systemd.credential:ssh.authorized_keys.root=${publicKey}`);
      expect(authorizedKeys.trim()).toBe(publicKey);
      // sshd logs each login with the key's fingerprint: each guest step and each cell logged
      // in (twice: guest_exec waits for sshd with a first login), all from the host's bridge address.
      const fingerprint = execFileSync("ssh-keygen", ["-l", "-f", "-"], { input: publicKey, encoding: "utf8" }).split(" ")[1]!;
      const logins = sshLog.split("\n").filter((l) => l.startsWith("Accepted publickey for root from 10.77.0.1 "));
      expect(logins.length, sshLog).toBeGreaterThanOrEqual(2 * (plan.steps.filter((s) => s.runsOn === "guest").length + 2));
      for (const l of logins) expect(l).toContain(`ED25519 ${fingerprint}`);
      expect(sshLog).not.toMatch(/Failed|Invalid user/);
    });

    it("measured the gso cell with USO engaged and the plain cell not exercised, from the outputs alone", () => {
      for (const c of outputs.cells as CellResult[]) {
        console.log(`${name} ${c.id}: ${(c.throughputBps! / 1e6).toFixed(1)} Mbit/s, ${c.evidence.largeFrames} large frames of ${c.evidence.totalFrames}, USO ${c.evidence.usoEngaged}`);
      }
      expectUsoLabOutputs(outputs, { uso: "on", mtu: 1500, payloadBytes: 1472, senders: ["plain", "gso"], repetitions: 1, counters: true });
      expect((outputs.cells as CellResult[]).find((c) => c.sender === "gso")!.evidence.usoEngaged).toBe("yes");
      expect((outputs.fingerprint as { iperf3Guest: string | null }).iperf3Guest).toMatch(/^iperf 3\.2\d/);
    });

    it("pulumi destroy leaves nothing on the host", async () => {
      const d = await timed(`${name} destroy`, () => stacks.get(name)!.destroy({ onOutput: collect }));
      expect(d.summary.resourceChanges?.delete).toBeGreaterThan(0);
      expectSandboxLabGone(sandbox.host.lv);
    }, 600_000);
  });

  it("a device that does not offer USO under a stack that asks for it fails at guest-offloads, saying so, and destroys clean", async () => {
    const stack = stacks.get("sandbox-uso-on")!;
    const key = "offload-lab:guest.virtioNetFeatures.host_uso";
    await stack.setConfig(key, { value: "off" }, true);
    try {
      log = "";
      const err = await timed("no-USO device up", () => stack.up({ onOutput: collect }).then(() => null, (e: unknown) => e));
      expect(String(err)).toContain("guest eth0: tx-udp-segmentation requested on, actual off [fixed]");
      expect(String(err)).toContain("the virtio-net device does not offer USO");
      expect(log).toMatch(/command:remote:Command \(guest-offloads\):\s+error:/);
      expect((await commands(stack)).map((r) => r.urn)).not.toContainEqual(expect.stringMatching(/::benchmark$/));
      // The override reached QEMU: the running device has host_uso off, the rest their defaults.
      const qom = (property: string) => JSON.parse(sandbox.host.lv.virsh(["qemu-monitor-command", SANDBOX_DOMAIN,
        JSON.stringify({ execute: "qom-get", arguments: { path: `/machine/peripheral/${NIC_ALIAS}`, property } })])).return;
      expect(qom("host_uso")).toBe(false);
      expect(qom("guest_uso4")).toBe(true);
      await timed("no-USO device destroy", () => stack.destroy({ onOutput: collect }));
      expectSandboxLabGone(sandbox.host.lv);
    } finally {
      await stack.setConfig(key, { value: "on" }, true);
    }
  }, 1_800_000);

  // Issue 18, point 1, on the Linux lab: a guest that does not acknowledge receiving USO
  // (guest_uso4/guest_uso6 off, what NetKVM negotiates: it implements HOST_USO only) leaves QEMU
  // without TUN_F_USO4/6, so the tap cannot take tx-udp-segmentation (tun.c masks it), while the
  // guest's own transmit USO still engages. Hence the rule refusing tap USO for a Windows guest.
  it("with guest_uso4/6 off the tap refuses tx-udp-segmentation, and the guest's transmit USO still engages", async () => {
    const stack = stacks.get("sandbox-uso-on")!;
    const keys = ["offload-lab:guest.virtioNetFeatures.guest_uso4", "offload-lab:guest.virtioNetFeatures.guest_uso6"];
    for (const k of keys) await stack.setConfig(k, { value: "off" }, true);
    try {
      const up = await timed("guest_uso off up", () => stack.up({ onOutput: collect }));
      const outputs = Object.fromEntries(Object.entries(up.outputs).map(([k, v]) => [k, v.value]));
      const qom = (property: string) => JSON.parse(sandbox.host.lv.virsh(["qemu-monitor-command", SANDBOX_DOMAIN,
        JSON.stringify({ execute: "qom-get", arguments: { path: `/machine/peripheral/${NIC_ALIAS}`, property } })])).return;
      expect([qom("host_uso"), qom("guest_uso4"), qom("guest_uso6")]).toEqual([true, false, false]);
      const tried = sandbox.host.lv.bash("ethtool -K tap0 tx-udp-segmentation on 2>&1; echo \"rc=$?\"; ethtool -k tap0 | grep '^tx-udp-segmentation:'");
      console.log(`tap0 with guest_uso4/6 off: ${tried.replace(/\n/g, " | ")}`);
      expect(tried).toMatch(/^tx-udp-segmentation: off/m);
      const gso = (outputs.cells as CellResult[]).filter((c) => c.sender === "gso");
      expect(gso.length).toBeGreaterThan(0);
      for (const c of gso) expect([c.status, c.evidence.usoEngaged], c.id).toEqual(["ok", "yes"]);
      await timed("guest_uso off destroy", () => stack.destroy({ onOutput: collect }));
      expectSandboxLabGone(sandbox.host.lv);
    } finally {
      for (const k of keys) await stack.removeConfig(k, true);
    }
  }, 1_800_000);
});
