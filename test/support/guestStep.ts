import { expect } from "vitest";
import type { LabConfig } from "../../src/config/model";
import type { Step } from "../../src/plan/step";
import { expectGolden } from "./golden";
import { describeErrors, encodedCommands, parsePowershell } from "./powershellGrammar";
import { shellcheck } from "./shellcheck";

/** A step a guest step waits for, standing in for the real one. */
export const stepNamed = (name: string): Step => ({ name }) as Step;

export async function expectPowershellParses(name: string, source: string): Promise<void> {
  const tree = await parsePowershell(source);
  if (tree.rootNode.hasError) throw new Error(`${name} does not parse: ${describeErrors(tree, source)}`);
}

/**
 * What every guest step of every stack must be: its guest script and its host command match
 * their golden files under test/golden/<step>/<stack>/, the host command is shellcheck-clean
 * bash that carries the guest script unchanged, a Linux guest script is shellcheck-clean sh,
 * and every PowerShell text (the script, the loader decoded from the command line) parses.
 */
export async function expectGuestStepChecked(cfg: LabConfig, step: Step): Promise<void> {
  const guest = step.guest!;
  expect(step.runsOn).toBe("guest");
  expectGolden(`${step.name}/${cfg.stack}/guest.${guest.language}`, guest.script);
  expectGolden(`${step.name}/${cfg.stack}/create.sh`, step.create);
  expect(step.create).toContain(`\n${guest.script}`);
  expect(shellcheck(step.create, "bash")).toEqual([]);
  if (guest.language === "sh") {
    expect(shellcheck(guest.script, "sh")).toEqual([]);
  } else {
    await expectPowershellParses(`${cfg.stack} ${step.name}`, guest.script);
    const loaders = encodedCommands(step.create);
    expect(loaders.length).toBeGreaterThan(0);
    for (const ps1 of loaders) await expectPowershellParses(`${cfg.stack} ${step.name} -EncodedCommand`, ps1);
  }
}

/** The stack with `guest.access: ssh` to a known address (no stack file uses SSH yet). */
export function overSsh(cfg: LabConfig): LabConfig {
  return { ...cfg, guest: { ...cfg.guest, access: "ssh", ssh: { ...cfg.guest.ssh, address: cfg.network.guestAddress ?? "10.77.0.10" } } };
}
