import { beforeAll, describe, expect, it } from "vitest";
import type { LabConfig } from "../../config/model";
import { expectGuestStepChecked, overSsh, stepNamed } from "../../../test/support/guestStep";
import { expectInertLiteral, HOSTILE_POWERSHELL, inLiteral, parsePowershell, powershellParser } from "../../../test/support/powershellGrammar";
import { everyStack } from "../../../test/support/stacks";
import { ps } from "../quote";
import { transportFor } from "../transport";
import { netkvmInstallStep } from "./step";

const guestDomain = stepNamed("guest-domain");
const guestCheck = stepNamed("guest-check");
const installOf = (cfg: LabConfig) => netkvmInstallStep(cfg, transportFor(cfg), { guestDomain, guestCheck });
const windowsStacks = () => everyStack().filter((c) => c.guest.os === "windows");

beforeAll(async () => {
  await powershellParser();
});

describe("the netkvm-install step (Windows only)", () => {
  for (const cfg of windowsStacks()) {
    it(`${cfg.stack}: guest script and host command match their golden files and parse`, async () => {
      const step = installOf(cfg);
      await expectGuestStepChecked(cfg, step);
      expect(step.dependsOn).toEqual([guestDomain, guestCheck]);
      expect(step.effect.changes).toBe(`installs NetKVM from the virtio-win ISO in guest ${cfg.guest.name} with pnputil (it stays installed)`);
      expect(step.secretEnv).toEqual({});
      expect(installOf(overSsh(cfg)).secretEnv).toEqual({ OFFLOAD_LAB_GUEST_SSH_KEY: "guestSshPrivateKey" });
    });
  }

  it("is refused for a Linux guest: planning it there is a bug", () => {
    const linux = everyStack().find((c) => c.guest.os === "linux")!;
    expect(() => installOf(linux)).toThrow(/netkvm-install is for a Windows guest/);
  });

  it("re-runs when the virtio-win ISO changes, and only then", () => {
    const cfg = windowsStacks()[0]!;
    const base = installOf(cfg).triggers;
    expect(installOf({ ...cfg, guest: { ...cfg.guest, virtioWinIso: "/other.iso" } }).triggers).not.toEqual(base);
    expect(installOf({ ...cfg, offloads: { ...cfg.offloads, mtu: 1500 } }).triggers).toEqual(base);
  });

  // Issue 12 defect 8 (test/plan/windows-defects.test.ts before the restructure).
  it("8: pnputil 3010 is reported as rebootRequired with its own exit code, 259 as no matching device", () => {
    const script = installOf(windowsStacks()[0]!).guest!.script;
    expect(script).toContain("exit 3\n");
    expect(script).toContain("pnputil exit 259: no device matches this netkvm.inf");
    // The script fails the step with the reboot message; the parser only reads what it printed.
    expect(script).toContain(
      "[Console]::Error.WriteLine('netkvm-install: NetKVM is installed but Windows must restart before it drives the adapter (pnputil exit 3010): restart the guest and run again')",
    );
    const out = JSON.stringify({
      inf: "E:\\NetKVM\\w11\\amd64\\netkvm.inf", infDriverVersion: "100.100.104.27100", isoLabel: "virtio-win-0.1.271", virtioWinVersion: "0.1.271", windows: "Microsoft Windows 11 Pro (build 26100)", pnputilExitCode: 3010,
      rebootRequired: true, pnputilOutput: "Driver package installed.", adapter: "Ethernet", driverVersion: "100.100.104.27100", driverDate: "5-14-2025",
    });
    expect(installOf(windowsStacks()[0]!).parse(out)).toMatchObject({ rebootRequired: true, driverVersion: "100.100.104.27100" });
  });

  it("8: an adapter name with a newline stays one literal, as given", async () => {
    const cfg = windowsStacks()[0]!;
    const odd: LabConfig = { ...cfg, guest: { ...cfg.guest, adapterName: "Ether\nnet" } };
    const script = installOf(odd).guest!.script;
    expect(script).toContain(`  AdapterName = ${ps("Ether\nnet")}\n`);
    expect(script).not.toContain("Ether\n  net");
    const tree = await parsePowershell(script);
    expect(expectInertLiteral(tree, script, "Ether\nnet")).toBe(1);
  });

  for (const value of HOSTILE_POWERSHELL) {
    it(`keeps ${JSON.stringify(value)}, the schema bypassed, inert inside one literal`, async () => {
      const base = windowsStacks()[0]!;
      let seen = 0;
      for (const [cfg, form] of [
        [{ ...base, guest: { ...base.guest, adapterName: value } }, inLiteral(value)],
        [{ ...base, guest: { ...base.guest, adapterName: undefined, mac: value } }, inLiteral(value.toUpperCase().replace(/:/g, "-"))],
      ] as const) {
        const script = installOf(cfg).guest!.script;
        const tree = await parsePowershell(script);
        expect(tree.rootNode.hasError).toBe(false);
        seen += expectInertLiteral(tree, script, form);
      }
      expect(seen).toBe(2);
    });
  }

  it("names the step when its stdout is not its JSON", () => {
    const step = installOf(windowsStacks()[0]!);
    expect(() => step.parse("pnputil: access denied\n")).toThrow(/step netkvm-install printed no JSON document/);
    expect(() => step.parse('{"inf":1}')).toThrow(/step netkvm-install printed unexpected JSON \(inf:/);
  });
});
