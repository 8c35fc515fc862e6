import { beforeAll, describe, expect, it } from "vitest";
import { expectGolden } from "../../../test/support/golden";
import { expectInertLiteral, HOSTILE_POWERSHELL, inLiteral, parsePowershell, powershellParser } from "../../../test/support/powershellGrammar";
import { boundValue, shellcheck } from "../../../test/support/shellcheck";
import { PROJECT } from "../../../test/support/stacks";
import type { LabConfig } from "../../config/model";
import { loadStack } from "../../config/stackFile";
import { switchLimitSeconds, usoSwitchScript } from "./usoSwitch";

// The in-lab arms' switch as the benchmark binds it (USO_SWITCH_OFF/ON): a Linux guest script
// (ethtool) for the arms stacks, a PowerShell one (NetKVM *UsoIPv4/6) for a Windows stack with
// usoArms. Windows has no arms stack of its own: mtu9000-uso-off with usoArms stands in.
const linux = loadStack(PROJECT, "sandbox-mtu9000-uso-arms");
const windowsStack = loadStack(PROJECT, "mtu9000-uso-off");
const windows: LabConfig = { ...windowsStack, matrix: { ...windowsStack.matrix, usoArms: true } };

beforeAll(async () => {
  await powershellParser();
});

describe("the USO switch of in-lab arms", () => {
  it.each(["off", "on"] as const)("Linux, arm %s: golden, POSIX sh clean, the arm bound as itself", (arm) => {
    const script = usoSwitchScript(linux, arm);
    expectGolden(`benchmark/sandbox-mtu9000-uso-arms/uso-switch-${arm}.sh`, script);
    expect(shellcheck(script, "sh")).toEqual([]);
    expect(boundValue(script, "ARM")).toBe(arm);
    expect(boundValue(script, "OL_LINUX_INTERFACE")).toBe("eth0");
  });

  it.each(["off", "on"] as const)("Windows, arm %s: golden, parses, one restart of the adapter", async (arm) => {
    const script = usoSwitchScript(windows, arm);
    expectGolden(`benchmark/mtu9000-uso-off-arms/uso-switch-${arm}.ps1`, script);
    const tree = await parsePowershell(script);
    expect(tree.rootNode.hasError).toBe(false);
    expect(script.match(/Restart-NetAdapter/g)).toHaveLength(1);
    // The arm is bound as a parameter of the script, once.
    expect(script.match(/^ {2}Arm = '(on|off)'$/gm)).toEqual([`  Arm = '${arm}'`]);
  });

  it("a hostile interface name binds as exactly itself", () => {
    for (const value of ["eth0; reboot", "$(id)", "a'b\"c", "x\ny"]) {
      const cfg: LabConfig = { ...linux, guest: { ...linux.guest, linuxInterface: value } };
      const script = usoSwitchScript(cfg, "on");
      expect(boundValue(script, "OL_LINUX_INTERFACE")).toBe(value);
      expect(shellcheck(script, "sh")).toEqual([]);
    }
  });

  it("hostile adapter names and addresses stay inside one PowerShell literal", async () => {
    for (const value of HOSTILE_POWERSHELL) {
      const cfg: LabConfig = { ...windows, guest: { ...windows.guest, adapterName: value }, network: { ...windows.network, hostAddress: value } };
      const script = usoSwitchScript(cfg, "on");
      const tree = await parsePowershell(script);
      expect(tree.rootNode.hasError, JSON.stringify(value)).toBe(false);
      expect(expectInertLiteral(tree, script, inLiteral(value))).toBeGreaterThan(0);
    }
  });

  it("gives a Windows switch the adapter's restart on top of the transport's round trip", () => {
    expect(switchLimitSeconds(linux)).toBe(60);
    expect(switchLimitSeconds(windows)).toBeGreaterThan(60);
  });
});
