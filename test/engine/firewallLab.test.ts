import { execFile } from "node:child_process";
import * as fs from "node:fs";
import { promisify } from "node:util";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadStack } from "../../src/config/stackFile";
import { labStackOf } from "../../src/engine/stack";
import { planLab } from "../../src/plan/lab";
import type { CellResult } from "../../src/results/cell";
import { canUseNamespaces, Namespace, run } from "../../src/sandbox/netns";
import { startSandbox, type Sandbox } from "../../src/sandbox/session";
import { privateBackend, pulumiCli } from "../support/engine";
import { PROJECT_DIR } from "../support/programHarness";
import { expectSandboxLabGone, PhaseTimes } from "../support/sandboxLab";

// The lab on a KVM host with RHEL's default firewall: the sandbox host runs firewalld (and a
// system bus) in its own namespaces, and libvirt puts the lab's bridge in firewalld's `libvirt`
// zone, which rejects the guest's traffic to the host's iperf3 port. One `pulumi up` of
// sandbox-uso-on (host.firewall: open, the default) must measure through it, and `destroy` leave
// firewalld's runtime and permanent configuration as they were. That the zone really is in the
// path is shown by a direct probe from the bridge with the lab's rule taken away, and by the
// benchmark script of a `host.firewall: leave` stack run on that host, whose cells fail naming
// the setting. The machine's own (root namespace) ruleset is compared before and after.
// With RECORD_STDOUT=1 every step's stdout is written to test/fixtures/stdout/sandbox-firewalld/.

const STACK = "sandbox-uso-on";
const ns = canUseNamespaces();
const cli = pulumiCli();
const firewalld = fs.existsSync("/usr/sbin/firewalld") ? null : "firewalld is not installed (scripts/setup.sh)";
const skip = !ns.ok ? ns.reason : !cli.ok ? cli.reason : firewalld;
if (skip !== null) console.log(`firewalld lab test skipped: ${skip}`);

interface StateResource {
  readonly urn: string;
  readonly type: string;
  readonly outputs?: { stdout?: unknown };
}

const phases = new PhaseTimes();
const rootRuleset = () => run("nft", ["list", "ruleset"]);

describe.skipIf(skip !== null)("the lab through firewalld's libvirt zone on the sandbox host", () => {
  let backend: ReturnType<typeof privateBackend>;
  let sandbox: Sandbox;
  let stack: Stack;
  let rootBefore: string;
  let firewallBefore: string;
  let outputs: Record<string, unknown>;
  const firewallConfig = () => sandbox.host.lv.bash("firewall-cmd --list-all-zones; echo '-- permanent --'; firewall-cmd --permanent --list-all-zones");
  /**
   * A host script run where the lab's host steps run (the daemon's namespaces), its stdout and
   * stderr kept apart; asynchronous, so a matrix of a minute does not stall vitest's worker.
   */
  const onHost = async (script: string) => {
    const lv = sandbox.host.lv;
    const file = path.join(lv.dir, "probe-step.sh");
    fs.writeFileSync(file, script);
    const { stdout } = await promisify(execFile)("nsenter", ["-t", String(lv.pid), "-n", "-m", "bash", "-c", `bash ${file} 2>${file}.err; echo "rc=$?" >>${file}.err`]);
    return { stdout, stderr: fs.readFileSync(`${file}.err`, "utf8") };
  };

  beforeAll(async () => {
    rootBefore = rootRuleset();
    backend = privateBackend();
    sandbox = await startSandbox(PROJECT_DIR, (l) => console.log(l), 0, { firewalld: true });
    firewallBefore = firewallConfig();
    stack = await labStackOf(PROJECT_DIR, { stack: STACK, host: sandbox.labHost });
    const up = await phases.timed("up", () => stack.up({ onOutput: () => undefined }));
    outputs = Object.fromEntries(Object.entries(up.outputs).map(([k, v]) => [k, v.value]));
  }, 1_800_000);

  afterAll(async () => {
    try {
      await stack?.destroy().catch(() => undefined);
    } finally {
      await sandbox?.stop();
      backend?.remove();
      console.log(`firewalld lab times: ${phases}`);
    }
  }, 600_000);

  it("found the libvirt zone rejecting the port, opened it at runtime only, and measured", async () => {
    const host = outputs.host as { firewall: unknown; hostFirewall: unknown };
    expect(host.firewall).toEqual({ firewalld: true, zone: "libvirt", closed: ["12345/tcp", "12345/udp"], nftRejecting: [] });
    expect(host.hostFirewall).toEqual({
      firewalld: true, setting: "open", zone: "libvirt",
      ports: [{ port: "12345/tcp", state: "added" }, { port: "12345/udp", state: "added" }],
    });
    expect(sandbox.host.lv.bash("firewall-cmd --zone=libvirt --list-ports").trim()).toBe("12345/tcp 12345/udp");
    expect(sandbox.host.lv.bash("firewall-cmd --permanent --zone=libvirt --list-ports").trim()).toBe("");
    const cells = outputs.cells as CellResult[];
    for (const c of cells) console.log(`${c.id}: ${c.status} ${c.error ?? ""} ${((c.throughputBps ?? 0) / 1e6).toFixed(1)} Mbit/s`);
    expect(cells.filter((c) => c.status === "ok").length).toBeGreaterThan(0);
    expect(cells.map((c) => c.error)).toEqual(cells.map(() => null));

    const resources = ((await stack.exportStack()).deployment as { resources: StateResource[] }).resources
      .filter((r) => r.type === "command:remote:Command");
    const stepOf = (r: StateResource) => r.urn.split("::").pop()!;
    expect(resources.map(stepOf).sort()).toEqual(planLab(loadStack(PROJECT_DIR, STACK)).steps.map((s) => s.name).sort());
    if (process.env.RECORD_STDOUT === "1") {
      const dir = path.join(PROJECT_DIR, "test", "fixtures", "stdout", "sandbox-firewalld");
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir, { recursive: true });
      for (const r of resources) {
        const stdout = r.outputs?.stdout;
        const text = typeof stdout === "string" ? stdout : JSON.parse((stdout as { plaintext: string }).plaintext) as string;
        fs.writeFileSync(path.join(dir, `${stepOf(r)}.out`), text);
      }
    }
  });

  it("the zone is in the guest's path: a probe from the bridge connects with the lab's rule and is refused without it; a leave stack's cells fail naming host.firewall", async () => {
    const lv = sandbox.host.lv;
    const probe = new Namespace("olfw");
    try {
      probe.exec(["ip", "link", "add", "fwprobe", "type", "veth", "peer", "name", "fwprobe-br", "netns", sandbox.host.ns.name]);
      lv.exec(["ip", "link", "set", "fwprobe-br", "master", "olbr0", "up"]);
      probe.exec(["ip", "addr", "add", "10.77.0.200/24", "dev", "fwprobe"]);
      probe.exec(["ip", "link", "set", "fwprobe", "up"]);
      // The new bridge port forwards once it has left STP's learning state: the zone lets ICMP in.
      probe.bash("for _ in $(seq 30); do ping -c1 -W1 10.77.0.1 >/dev/null 2>&1 && exit 0; done; exit 1");
      const connect = () => probe.bash("iperf3 -c 10.77.0.1 -p 12345 -t 1 --connect-timeout 3000 2>&1 | tail -n 1 | sed 's/^/refused: /' | grep -v 'iperf Done' || echo connected").trim();
      expect(connect()).toBe("connected");

      const cfg = loadStack(PROJECT_DIR, STACK);
      const leave = planLab({ ...cfg, host: { ...cfg.host, firewall: "leave" } });
      const open = planLab(cfg);
      await onHost(open.hostFirewall.delete!);
      expect(lv.bash("firewall-cmd --zone=libvirt --list-ports").trim()).toBe("");
      expect(connect()).toMatch(/^refused: iperf3: error - unable to connect to server/);

      const said = await onHost(leave.hostFirewall.create);
      expect(leave.hostFirewall.parse(said.stdout).ports.map((p) => p.state)).toEqual(["closed", "closed"]);
      expect(said.stderr).toContain("host.firewall is leave: firewalld zone libvirt (bridge olbr0) rejects 12345/tcp 12345/udp from the guest");
      const bench = await onHost(leave.benchmark.create);
      const cells = leave.benchmark.parse(bench.stdout).cells;
      expect(cells.map((c) => c.status)).toEqual(cells.map(() => "failed"));
      for (const c of cells) {
        expect(c.error).toContain("the KVM host's firewalld zone libvirt (bridge olbr0) rejects 12345/tcp 12345/udp from the guest, and host.firewall is leave: set host.firewall: open");
      }
      console.log(`a leave cell: ${cells[0]!.error}`);
      // The lab's rule back as the lab made it, for destroy to remove.
      await onHost(open.hostFirewall.create);
      expect(connect()).toBe("connected");
    } finally {
      probe.remove();
    }
  }, 600_000);

  it("destroy leaves firewalld's runtime and permanent configuration as they were, and the machine's own ruleset untouched", async () => {
    await phases.timed("destroy", () => stack.destroy());
    expectSandboxLabGone(sandbox.host.lv);
    expect(firewallConfig()).toBe(firewallBefore);
    expect(rootRuleset()).toBe(rootBefore);
  }, 600_000);
});
