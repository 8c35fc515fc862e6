import * as fs from "node:fs";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadStack } from "../../src/config/stackFile";
import { labStackOf } from "../../src/engine/stack";
import { planLab } from "../../src/plan/lab";
import type { CellResult } from "../../src/results/cell";
import { startSandbox, type Sandbox } from "../../src/sandbox/session";
import { canUseNamespaces } from "../../src/sandbox/netns";
import { privateBackend, pulumiCli, readTree } from "../support/engine";
import { PROJECT_DIR } from "../support/programHarness";
import { expectSandboxLabGone, PhaseTimes, SANDBOX_DOMAIN, sandboxOverlay } from "../support/sandboxLab";

// The lab through the real Pulumi engine (the CLI built from Go modules, the Automation API
// serving src/lab/stackProgram.ts inline, the project's command provider) on the sandbox KVM
// host over SSH: preview, up, a no-op up, an offload change, a runId change, a failing step,
// destroy. The libvirt objects and the guest's boot are checked, not only the engine's diff.

const STACK = "sandbox-uso-off";
/** What up creates: a Command per step of the plan, the lab's six components, the stack itself. */
const RESOURCES = planLab(loadStack(PROJECT_DIR, STACK)).steps.length + 6 + 1;
const ns = canUseNamespaces();
const cli = pulumiCli();
const skip = !ns.ok ? ns.reason : !cli.ok ? cli.reason : null;
if (skip !== null) console.log(`engine tests skipped: ${skip}`);

const phases = new PhaseTimes();
const timed = <T>(what: string, f: () => Promise<T>) => phases.timed(what, f);

describe.skipIf(skip !== null)(`real engine: ${STACK} on the sandbox host`, () => {
  let backend: ReturnType<typeof privateBackend>;
  let sandbox: Sandbox;
  let stack: Stack;
  let log = "";
  const collect = (s: string) => void (log += s);

  /** What identifies the running lab: a changed value means the object was remade or the guest rebooted. */
  function identity() {
    const lv = sandbox.host.lv;
    return {
      domainUuid: lv.virsh(["domuuid", SANDBOX_DOMAIN]).trim(),
      domainId: lv.virsh(["domid", SANDBOX_DOMAIN]).trim(),
      networkUuid: lv.virsh(["net-uuid", "offload-lab"]).trim(),
      overlayInode: fs.statSync(sandboxOverlay(lv)).ino,
      bootId: guestBootId(),
    };
  }

  function guestBootId(): string {
    const lv = sandbox.host.lv;
    const agent = (cmd: object) => JSON.parse(lv.virsh(["qemu-agent-command", SANDBOX_DOMAIN, JSON.stringify(cmd)])).return;
    const { pid } = agent({ execute: "guest-exec", arguments: { path: "/bin/cat", arg: ["/proc/sys/kernel/random/boot_id"], "capture-output": true } });
    for (;;) {
      const status = agent({ execute: "guest-exec-status", arguments: { pid } });
      if (status.exited) return Buffer.from(status["out-data"], "base64").toString("utf8").trim();
    }
  }

  beforeAll(async () => {
    backend = privateBackend();
    sandbox = await startSandbox(PROJECT_DIR, (l) => console.log(l));
    stack = await labStackOf(PROJECT_DIR, { stack: STACK, host: sandbox.labHost });
  }, 1_800_000);

  afterAll(async () => {
    try {
      await stack?.destroy({ onOutput: collect });
    } finally {
      await sandbox?.stop();
      backend?.remove();
      console.log(`engine test times: ${phases}`);
    }
  }, 600_000);

  it("previews every step as a create, then up creates them and the outputs hold the cells", async () => {
    const preview = await timed("preview", () => stack.preview({ onOutput: collect }));
    expect(preview.changeSummary).toEqual({ create: RESOURCES });
    const up = await timed("up", () => stack.up({ onOutput: collect }));
    expect(up.summary.resourceChanges).toEqual({ create: RESOURCES });
    const cells = up.outputs.cells!.value as CellResult[];
    expect(up.outputs.cells!.secret).toBe(false);
    expect(cells.map((c) => c.id)).toEqual([
      "udp-1472B-plain-mtu1500-uso-off-r1", "udp-1472B-plain-mtu1500-uso-off-r2", "udp-1472B-gso-mtu1500-uso-off-r1", "udp-1472B-gso-mtu1500-uso-off-r2",
    ]);
    for (const c of cells) {
      expect(c.status, `${c.id}: ${c.error}`).toBe("ok");
      expect(c.throughputBps).toBeGreaterThan(0);
    }
    expect(up.outputs.network!.value).toEqual({ network: "offload-lab", mode: "dedicated", bridge: "olbr0", mtu: 1500 });
  }, 1_800_000);

  it("keeps the SSH key out of the state and the outputs", async () => {
    const keyBody = sandbox.host.privateKey.split("\n")[1]!;
    expect(keyBody.length).toBeGreaterThan(40);
    expect(readTree(backend.dir)).not.toContain(keyBody);
    expect(JSON.stringify(await stack.outputs())).not.toContain(keyBody);
  });

  it("ran the project's command provider and downloaded no plugin", async () => {
    // Downloads are disabled (src/engine/environment.ts) and PULUMI_HOME started empty: had the
    // engine wanted any plugin it does not have, the update would have failed.
    const plugins = path.join(backend.home, "plugins");
    expect(fs.existsSync(plugins) ? fs.readdirSync(plugins).filter((f) => !f.startsWith(".")) : []).toEqual([]);
    const deployment = (await stack.exportStack()).deployment as { resources: { type: string; inputs?: { version?: string } }[] };
    expect(deployment.resources.filter((r) => r.type === "pulumi:providers:command").map((r) => r.inputs?.version)).toEqual(["1.2.1"]);
  });

  it("a second up changes nothing and runs no command on the host", async () => {
    const before = { logins: sandbox.host.sshd.logins(), lab: identity() };
    const up = await timed("no-op up", () => stack.up({ onOutput: collect }));
    expect(up.summary.resourceChanges).toEqual({ same: RESOURCES });
    expect(sandbox.host.sshd.logins()).toBe(before.logins);
    expect(identity()).toEqual(before.lab);
  }, 600_000);

  it("an offload-only change replaces only the offload and benchmark steps; network, disk, domain and guest boot stay", async () => {
    const before = identity();
    await stack.setConfig("offload-lab:guestOffloads.lso.ipv4", { value: "false" }, true);
    try {
      const replaced: string[] = [];
      const preview = await stack.preview({
        onOutput: collect,
        onEvent: (e) => {
          const m = e.resourcePreEvent?.metadata;
          if (m?.op === "replace") replaced.push(m.urn.split("::").pop()!);
        },
      });
      expect(preview.changeSummary).toEqual({ replace: 3, same: RESOURCES - 3 });
      // guest-network follows: an offload change can restart the adapter, so the wait runs again.
      expect(replaced.sort()).toEqual(["benchmark", "guest-network", "guest-offloads"]);
      const up = await timed("offload change up", () => stack.up({ onOutput: collect }));
      expect(up.summary.resourceChanges).toEqual({ replace: 3, same: RESOURCES - 3 });
      const readback = up.outputs.offloadReadback!.value as { guest: { features: { feature: string; requested: string; actual: string }[] } };
      expect(readback.guest.features.find((f) => f.feature === "tx-tcp-segmentation")).toMatchObject({ requested: "off", actual: "off" });
      expect(identity()).toEqual(before);
    } finally {
      await stack.removeConfig("offload-lab:guestOffloads.lso.ipv4", true);
    }
  }, 900_000);

  it("a benchmark.runId change re-runs only the matrix", async () => {
    // Back to the stack file's offloads first, so that only the runId differs below.
    await stack.up({ onOutput: collect });
    const before = identity();
    await stack.setConfig("offload-lab:benchmark.runId", { value: "engine-test-2" }, true);
    const up = await timed("runId up", () => stack.up({ onOutput: collect }));
    expect(up.summary.resourceChanges).toEqual({ replace: 1, same: RESOURCES - 1 });
    expect(identity()).toEqual(before);
  }, 900_000);

  it("SIGINT to the CLI during the matrix fails the update without pending operations; the next up completes", async () => {
    await stack.setConfig("offload-lab:benchmark.runId", { value: "engine-test-sigint" }, true);
    const abort = new AbortController();
    let matrixStarted = false;
    const interrupted = stack.up({
      signal: abort.signal,
      onOutput: (text) => {
        collect(text);
        if (!matrixStarted && /command:remote:Command benchmark creating/.test(text)) {
          matrixStarted = true;
          // Into the matrix: past its first cell's start, well before its last one ends.
          setTimeout(() => abort.abort(), 3000);
        }
      },
    });
    await expect(interrupted).rejects.toThrow();
    expect(matrixStarted).toBe(true);
    // The engine cancelled gracefully: the provider stopped the step, so nothing is left pending
    // and the user needs no `pulumi refresh --clear-pending-creates` before the next up.
    const deployment = (await stack.exportStack()).deployment as {
      pending_operations?: unknown[];
      resources: { urn: string; pendingReplacement?: boolean }[];
    };
    expect(deployment.pending_operations ?? []).toEqual([]);
    // The old matrix was deleted before its replacement (deleteBeforeReplace) and stays in the
    // state only as "pending replacement"; the cancelled new one was never recorded.
    expect(deployment.resources.filter((r) => r.urn.endsWith("$command:remote:Command::benchmark")).map((r) => r.pendingReplacement)).toEqual([true]);
    const up = await timed("up after SIGINT", () => stack.up({ onOutput: collect }));
    expect(up.summary.resourceChanges?.same).toBe(RESOURCES - 1);
    expect(Object.values(up.summary.resourceChanges ?? {}).reduce((a, b) => a + b, 0)).toBe(RESOURCES);
    const cells = up.outputs.cells!.value as CellResult[];
    for (const c of cells) expect(c.status, `${c.id}: ${c.error}`).toBe("ok");
  }, 900_000);

  it("destroy leaves nothing on the host", async () => {
    const d = await timed("destroy", () => stack.destroy({ onOutput: collect }));
    expect(d.summary.resourceChanges).toEqual({ delete: RESOURCES });
    expectSandboxLabGone(sandbox.host.lv);
  }, 600_000);

  it("a failing step fails the update with its message, and destroy still leaves nothing", async () => {
    // The iperf3 port taken inside the sandbox host, by a listener the test owns.
    const blocker = sandbox.host.lv.exec(["bash", "-c", "setsid nohup python3 -c 'import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((\"0.0.0.0\", 12345)); s.listen(); time.sleep(3600)' >/dev/null 2>&1 & echo $!"]).trim();
    try {
      log = "";
      await expect(stack.up({ onOutput: collect })).rejects.toThrow(/port 12345 is already taken by another program/);
      expect(log).toMatch(/command:remote:Command \(iperf3-server\):\s+error: exit status 1: running/);
    } finally {
      sandbox.host.lv.exec(["kill", blocker]);
    }
    await stack.destroy({ onOutput: collect });
    expectSandboxLabGone(sandbox.host.lv);
  }, 900_000);

  it("an adopt-mode stack takes over an existing network and gives it back its original definition on destroy", async () => {
    const lv = sandbox.host.lv;
    // A network of the "host's" own, as libvirt's default network would be.
    const xml = '<network><name>default</name><bridge name="virbr0" stp="on" delay="0"/><ip address="10.78.0.1" netmask="255.255.255.0"><dhcp><range start="10.78.0.100" end="10.78.0.200"/></dhcp></ip></network>';
    lv.bash(`f=$(mktemp); printf '%s' '${xml}' > "$f"; virsh net-define "$f"; virsh net-start default; rm -f "$f"`);
    const original = lv.virsh(["net-dumpxml", "default"]);
    for (const [key, value] of [["mode", "adopt"], ["name", "default"], ["bridge", "virbr0"], ["cidr", "10.78.0.0/24"]]) {
      await stack.setConfig(`offload-lab:network.${key}`, { value: value! }, true);
    }
    await stack.removeConfig("offload-lab:network.guestAddress", true);
    const up = await timed("adopt up", () => stack.up({ onOutput: collect }));
    expect(up.outputs.network!.value).toMatchObject({ network: "default", mode: "adopt", bridge: "virbr0", mtu: 1500 });
    for (const c of up.outputs.cells!.value as CellResult[]) expect(c.status, `${c.id}: ${c.error}`).toBe("ok");
    expect(lv.virsh(["net-dumpxml", "default"])).not.toBe(original);
    await timed("adopt destroy", () => stack.destroy({ onOutput: collect }));
    expect(lv.virsh(["net-dumpxml", "default"])).toBe(original);
    expect(lv.virsh(["list", "--all", "--name"]).trim()).toBe("");
    expect(fs.existsSync(sandboxOverlay(lv))).toBe(false);
    expect(() => lv.exec(["ip", "link", "show", "tap0"])).toThrow();
  }, 900_000);

});
