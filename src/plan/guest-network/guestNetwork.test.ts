import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { LabConfig } from "../../config/model";
import { expectGuestStepChecked, overSsh, stepNamed } from "../../../test/support/guestStep";
import { expectInertLiteral, HOSTILE_POWERSHELL, inLiteral, parsePowershell, powershellParser } from "../../../test/support/powershellGrammar";
import { boundValue, shellcheck } from "../../../test/support/shellcheck";
import { everyStack, PROJECT } from "../../../test/support/stacks";
import { transportFor } from "../transport";
import { GUEST_NETWORK_WAIT_SECONDS, guestNetworkStep } from "./step";

const guestOffloads = stepNamed("guest-offloads");
const networkOf = (cfg: LabConfig) => guestNetworkStep(cfg, transportFor(cfg), { guestOffloads });

beforeAll(async () => {
  await powershellParser();
});

describe("guest-network step", () => {
  for (const cfg of everyStack()) {
    it(`${cfg.stack}: golden script, run through the guest transport, lint clean and parses`, async () => {
      const step = networkOf(cfg);
      await expectGuestStepChecked(cfg, step);
      expect(spawnSync("bash", ["-n", "-c", step.create]).status).toBe(0);
      if (step.guest!.language === "sh") expect(spawnSync("sh", ["-n", "-c", step.guest!.script]).status).toBe(0);
    });

    it(`${cfg.stack}: it waits for the guest's offloads`, () => {
      const step = networkOf(cfg);
      expect(step.runsOn).toBe("guest");
      expect(step.dependsOn).toEqual([guestOffloads]);
      expect(step.effect.changes).toBe(
        `changes nothing: waits up to ${GUEST_NETWORK_WAIT_SECONDS} s until guest ${cfg.guest.name} has its lab interface up with ` +
          `${cfg.network.guestAddress === undefined ? "an IPv4 address" : `address ${cfg.network.guestAddress}`} and a route to ${cfg.network.hostAddress}`,
      );
    });
  }

  it("re-runs when the host's or the guest's address changes", () => {
    const cfg = everyStack()[0]!;
    const base = networkOf(cfg).triggers;
    expect(networkOf({ ...cfg, network: { ...cfg.network, hostAddress: "10.9.9.1" } }).triggers).not.toEqual(base);
    expect(networkOf({ ...cfg, network: { ...cfg.network, guestAddress: "10.9.9.2" } }).triggers).not.toEqual(base);
    expect(networkOf({ ...cfg, offloads: { ...cfg.offloads, mtu: 9000 } }).triggers).toEqual(base);
  });

  it("gives an SSH guest's step the key as a secret environment variable", () => {
    for (const cfg of everyStack()) {
      expect(networkOf(overSsh(cfg)).secretEnv).toEqual({ OFFLOAD_LAB_GUEST_SSH_KEY: "guestSshPrivateKey" });
      // A stack that reaches its guest over SSH (sandbox-ssh) has the key; the agent's need none.
      expect(networkOf(cfg).secretEnv, cfg.stack).toEqual(cfg.guest.access === "ssh" ? { OFFLOAD_LAB_GUEST_SSH_KEY: "guestSshPrivateKey" } : {});
    }
  });

  it("becomes a stack output, and rejects output without an address", () => {
    const step = networkOf(everyStack().find((c) => c.stack === "linux-uso-on")!);
    const stdout = '{"interface":"eth0","operstate":"up","addresses":["10.77.0.10/24"],"route":"10.77.0.1 dev eth0 src 10.77.0.10 uid 0","waitedSeconds":21}\n';
    expect(step.parse(stdout)).toEqual({ interface: "eth0", operstate: "up", addresses: ["10.77.0.10/24"], route: "10.77.0.1 dev eth0 src 10.77.0.10 uid 0", waitedSeconds: 21 });
    expect(() => step.parse('{"interface":"eth0","operstate":"up","addresses":[],"route":"","waitedSeconds":0}')).toThrow(/addresses/);
    expect(() => step.parse("Network is unreachable\n")).toThrow(/step guest-network printed no JSON document/);
  });

  for (const stack of ["sandbox-uso-off", "sandbox-uso-on"]) {
    it(`reads the output recorded from a real run (${stack})`, () => {
      const cfg = everyStack().find((c) => c.stack === stack)!;
      const recorded = fs.readFileSync(path.join(PROJECT, "test", "fixtures", "stdout", stack, "guest-network.out"), "utf8");
      const out = networkOf(cfg).parse(recorded);
      expect(out).toMatchObject({ interface: "eth0", operstate: "up", addresses: ["10.77.0.10/24"] });
      expect(out.route).toMatch(/^10\.77\.0\.1 dev eth0 src 10\.77\.0\.10 /);
    });
  }
});

describe("hostile values in guest-network", () => {
  it("binds a hostile host, address and interface, the schema bypassed, as exactly themselves", () => {
    const hostile = "x'$(touch /tmp/ol-pwned)`id`\n\"y\" \\ ;*";
    const cfg = everyStack().find((c) => c.guest.os === "linux")!;
    const script = networkOf({ ...cfg, network: { ...cfg.network, hostAddress: hostile, guestAddress: hostile }, guest: { ...cfg.guest, linuxInterface: hostile } }).guest!.script;
    for (const name of ["HOST", "WANT_ADDRESS", "OL_LINUX_INTERFACE"]) expect(boundValue(script, name)).toBe(hostile);
    expect(shellcheck(script, "sh")).toEqual([]);
  });

  it("compares the wanted address as text, not as a pattern", () => {
    const cfg = everyStack().find((c) => c.guest.os === "linux")!;
    const script = networkOf({ ...cfg, network: { ...cfg.network, guestAddress: "10.77.0.1*" } }).guest!.script;
    // has_wanted_address alone, with the addresses a guest might have.
    const fn = script.slice(script.indexOf("has_wanted_address() {"), script.indexOf("waited=0"));
    const has = (addresses: string) =>
      spawnSync("dash", ["-c", `WANT_ADDRESS='10.77.0.1*'\naddresses='${addresses}'\n${fn}\nhas_wanted_address`]).status;
    expect(has("10.77.0.10/24")).toBe(1);
    expect(has("10.77.0.1*/24")).toBe(0);
  });

  for (const value of HOSTILE_POWERSHELL) {
    it(`keeps ${JSON.stringify(value)}, the schema bypassed, inert inside one literal`, async () => {
      const base = everyStack().find((c) => c.stack === "mtu9000-uso-on")!;
      let seen = 0;
      for (const [cfg, form] of [
        [{ ...base, network: { ...base.network, hostAddress: value, guestAddress: value }, guest: { ...base.guest, adapterName: value } }, inLiteral(value)],
        [{ ...base, guest: { ...base.guest, adapterName: undefined, mac: value } }, inLiteral(value.toUpperCase().replace(/:/g, "-"))],
      ] as const) {
        const script = networkOf(cfg).guest!.script;
        const tree = await parsePowershell(script);
        expect(tree.rootNode.hasError).toBe(false);
        seen += expectInertLiteral(tree, script, form);
      }
      expect(seen).toBe(4);
    });
  }
});

// Issue 18 item 7: while the adapter restarts it can be absent for a moment; Get-NetAdapter
// then raised a terminating error under ErrorActionPreference Stop and ended the wait.
describe("an adapter that is briefly absent", () => {
  it("reads as not Up, and the wait goes on: every Get-NetAdapter of the script tolerates it", () => {
    const cfg = everyStack().find((c) => c.guest.os === "windows")!;
    const script = guestNetworkStep(cfg, transportFor(cfg), { guestOffloads: stepNamed("guest-offloads") }).guest!.script;
    const calls = script.split("\n").filter((l) => /Get-NetAdapter\b(?!\w)/.test(l) && !l.trim().startsWith("#"));
    expect(calls.length).toBeGreaterThanOrEqual(3);
    for (const call of calls) expect(call, call).toContain("-ErrorAction SilentlyContinue");
    expect(script).toContain("$state = [string](Get-NetAdapter -InterfaceIndex $adapter.ifIndex -ErrorAction SilentlyContinue).Status\n  if ($state -eq '') { $state = 'absent' }");
  });
});
