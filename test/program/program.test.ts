import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { listStacks, loadStack } from "../../src/config/stackFile";
import type { ConfigError } from "../../src/config/errors";
import { PROJECT_DIR, runProgram, stackConfig, unwrapSecrets, type Registered } from "../support/programHarness";
import { expectUsoLabOutputs } from "../support/usoLabAssertions";

const STEPS = ["host-readiness", "network", "guest-disk", "guest-domain", "guest-check", "guest-offloads", "host-offloads", "guest-network", "iperf3-server", "benchmark"];
const COMPONENTS = ["LabHost", "LabNetwork", "LabGuest", "OffloadProfile", "Iperf3Server", "Benchmark"].map((c) => `offload-lab:lab:${c}`);
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";

const commands = (rs: Registered[]) => rs.filter((r) => r.type.startsWith("command:"));

describe.each(listStacks(PROJECT_DIR))("stack %s under Pulumi mocks (preview)", (stack) => {
  it("registers one command per planned step, under the lab's components", async () => {
    const run = await runProgram(stack, stackConfig(stack), "preview");
    expect(commands(run.resources).map((r) => r.name).sort()).toEqual([...STEPS].sort());
    const remote = loadStack(PROJECT_DIR, stack).host.connection === "ssh";
    const type = remote ? "command:remote:Command" : "command:local:Command";
    expect(commands(run.resources).every((r) => r.type === type)).toBe(true);
    expect(new Set(run.resources.filter((r) => !r.type.startsWith("command:")).map((r) => r.type))).toEqual(new Set(COMPONENTS));
    for (const r of commands(run.resources)) {
      // Over SSH the script is handed to bash in the command text; locally bash is the interpreter.
      if (remote) expect(r.inputs.create, r.name).toMatch(/^bash -c /);
      else expect(r.inputs.interpreter, r.name).toEqual(["/bin/bash", "-c"]);
      expect(typeof r.inputs.create, r.name).toBe("string");
      expect((r.inputs.triggers as string[]).length, r.name).toBeGreaterThan(0);
    }
  });
});

describe("a stack's outputs", () => {
  // Every step's stdout as recorded from a real `pulumi up` (test/engine/usoLab.test.ts with RECORD_STDOUT=1).
  const recorded = path.join(PROJECT_DIR, "test", "fixtures", "stdout", "sandbox-uso-on");
  const replay = (r: Registered) => fs.readFileSync(path.join(recorded, `${r.name}.out`), "utf8");

  it("are parsed from each step's stdout into the documented shape", async () => {
    const run = await runProgram("sandbox-uso-on", stackConfig("sandbox-uso-on"), replay);
    const o = run.outputs;
    expect(o).toMatchObject({ stack: "sandbox-uso-on", variant: "mtu1500-uso-on", os: "linux", mtu: 1500, uso: true });
    expect(o.network).toMatchObject({ bridge: "olbr0", mtu: 1500 });
    expect(o.guest).toMatchObject({ domain: { tap: "tap0", tapMtu: 1500 }, disk: { baseFormat: "qcow2" }, network: { interface: "eth0", addresses: ["10.77.0.10/24"] } });
    expect(o.offloadReadback).toMatchObject({ guest: { os: "linux", interface: "eth0" }, host: { devices: [] } });
    expect(o.iperf3Server).toMatchObject({ port: 12345, address: "10.77.0.1" });
    // The same verdicts the end-to-end test asserts on the live run.
    expectUsoLabOutputs(o, { uso: "on", mtu: 1500, payloadBytes: 1472, senders: ["plain", "gso"], repetitions: 2, counters: false });
    expect(o.summary).toHaveLength(2);
    expect(o.fingerprint).toMatchObject({ machineType: "pc-q35-10.0", qemuVersion: expect.stringMatching(/^10\./), digest: expect.stringMatching(/^[0-9a-f]{16}$/) });
    // Every output names its host, and the variant's factors are data.
    expect(o.host).toMatchObject({ identity: { name: expect.any(String), address: "10.203.77.2", qemu: "10.0.2", cpuModel: expect.any(String) } });
    expect(o.factors).toEqual({ os: "linux", mtu: 1500, uso: true, arms: false, host: (o.host as { identity: { name: string } }).identity.name });
    expect(run.secretOutputs).toEqual([]);
  });

  it("report a read-back as the script printed it: whether it took is the script's to decide", async () => {
    // The guest-offloads script exits non-zero with "offload settings did not take" when a
    // setting differs (tested where the script runs for real); a program that judged again
    // after a successful command would fail after the engine had recorded the step as done,
    // and the next `up` would not run it again.
    const lying = (r: Registered) => (r.name === "guest-offloads" ? replay(r).replace(/"mtu":1500/g, '"mtu":1400') : replay(r));
    const run = await runProgram("sandbox-uso-on", stackConfig("sandbox-uso-on"), lying);
    expect(run.outputs.offloadReadback).toMatchObject({ guest: { mtu: { requested: 1500, actual: 1400 } } });
  });
});

describe("bad input", () => {
  it("stops the program before any resource is registered, naming the key", async () => {
    const cfg = stackConfig("mtu9000-uso-on");
    cfg.config["offload-lab:network"] = JSON.stringify({ mode: "adopt", mtu: 65500 });
    const resources: Registered[] = [];
    const err = await runProgram("mtu9000-uso-on", cfg, (r) => { resources.push(r); return ""; }).catch((e: unknown) => e);
    expect((err as ConfigError).name).toBe("ConfigError");
    expect((err as Error).message).toContain("offload-lab:network.mtu: must be from 576 to 65486 for a Windows guest");
    expect(resources).toEqual([]);
  });

  it("refuses a key given in plain text where a secret is required", async () => {
    const cfg = stackConfig("mtu9000-uso-on");
    cfg.config["offload-lab:host"] = JSON.stringify({ connection: "ssh", address: "kvm1.lab.test" });
    cfg.config["offload-lab:hostSshPrivateKey"] = "-----BEGIN OPENSSH PRIVATE KEY----- plain";
    await expect(runProgram("mtu9000-uso-on", cfg, "preview")).rejects.toThrow(/offload-lab:hostSshPrivateKey: must be a Pulumi secret/);
  });
});

describe("secrets", () => {
  const HOST_KEY = "HOST-KEY-9f3c2a";
  const GUEST_KEY = "GUEST-KEY-77d1e0";

  it("stay secret from the stack config to the SSH connection and the guest transport", async () => {
    const cfg = stackConfig("mtu9000-uso-on");
    cfg.config["offload-lab:host"] = JSON.stringify({ connection: "ssh", address: "kvm1.lab.test", jump: { address: "bastion.lab.test" } });
    cfg.config["offload-lab:guest"] = JSON.stringify({ ...JSON.parse(cfg.config["offload-lab:guest"]!), access: "ssh", ssh: { address: "192.168.122.50" } });
    cfg.config["offload-lab:hostSshPrivateKey"] = HOST_KEY;
    cfg.config["offload-lab:guestSshPrivateKey"] = GUEST_KEY;
    cfg.secretKeys.push("offload-lab:hostSshPrivateKey", "offload-lab:guestSshPrivateKey");
    const run = await runProgram("mtu9000-uso-on", cfg, "preview");
    const cmds = commands(run.resources);
    expect(cmds.map((r) => r.type)).toEqual(STEPS.map(() => "command:remote:Command"));
    expect(cmds).toHaveLength(STEPS.length);
    for (const r of cmds) {
      // Outside the values Pulumi holds as secrets, no key appears anywhere in a command.
      const plain = JSON.stringify(r.inputs, (_k, v: unknown) =>
        v !== null && typeof v === "object" && (v as Record<string, unknown>)[SECRET_SIG_KEY] ? "<secret>" : v);
      expect(plain, r.name).not.toContain(HOST_KEY);
      expect(plain, r.name).not.toContain(Buffer.from(GUEST_KEY).toString("base64"));
      expect(JSON.stringify(r.inputs.connection)).toContain(SECRET_SIG_KEY);
      const conn = unwrapSecrets(r.inputs.connection) as { host: string; privateKey: string; proxy: { host: string } };
      expect(conn).toMatchObject({ host: "kvm1.lab.test", privateKey: HOST_KEY, proxy: { host: "bastion.lab.test" } });
    }
    const guestStep = cmds.find((r) => r.name === "guest-offloads")!;
    expect(JSON.stringify(guestStep.inputs.stdin)).toContain(SECRET_SIG_KEY);
    expect(unwrapSecrets(guestStep.inputs.stdin)).toContain(`OFFLOAD_LAB_GUEST_SSH_KEY=${Buffer.from(GUEST_KEY).toString("base64")}`);
  });
});
