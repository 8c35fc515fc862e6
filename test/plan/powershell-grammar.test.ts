import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { LabConfig } from "../../src/config/model";
import { listStacks, loadStack } from "../../src/config/stackFile";
import { renderPlan } from "../../src/cli/render";
import { planCells } from "../../src/plan/benchmark/cells";
import { guestCellScript } from "../../src/plan/benchmark/guestCell";
import { usoSwitchScript } from "../../src/plan/benchmark/usoSwitch";
import { windowsCommandLine } from "../../src/plan/benchmark/windowsCommandLine";
import { planLab } from "../../src/plan/lab";
import { POWERSHELL_LOADER } from "../../src/plan/transport/powershellLoader";
import { describeErrors, encodedCommands, expectInertLiteral, HOSTILE_POWERSHELL, inLiteral, parsePowershell, powershellParser } from "../support/powershellGrammar";

const ROOT = path.join(__dirname, "..", "..");

// The guest steps' own scripts, the transports' loader and the grammar check itself are
// tested beside them under src/plan/ (guest-check, netkvm-install, guest-offloads,
// guest-network, transport, script/powershellScript.test.ts).

/** Every PowerShell text a stack sends anywhere: rendered .ps1, cell scripts, -EncodedCommand payloads. */
function powershellOf(cfg: LabConfig): Map<string, string> {
  const out = new Map<string, string>();
  const files = renderPlan(cfg, planLab(cfg));
  for (const [name, text] of files) {
    if (name.endsWith(".ps1")) out.set(name, text);
    if (name.endsWith(".sh")) encodedCommands(text).forEach((ps1, i) => out.set(`${name} -EncodedCommand #${i + 1}`, ps1));
  }
  if (cfg.guest.os === "windows") {
    for (const cell of planCells(cfg)) out.set(`cell ${cell.id}.ps1`, guestCellScript(cfg, cell));
    // In-lab arms: the USO switch travels inside the benchmark's host script as a value.
    if (cfg.matrix.usoArms) for (const arm of ["off", "on"] as const) out.set(`uso switch ${arm}.ps1`, usoSwitchScript(cfg, arm));
  }
  return out;
}

async function expectParses(name: string, source: string): Promise<void> {
  const tree = await parsePowershell(source);
  if (tree.rootNode.hasError) throw new Error(`${name} does not parse: ${describeErrors(tree, source)}`);
}

beforeAll(async () => {
  await powershellParser();
});

describe("every PowerShell script of every stack parses", () => {
  for (const stack of listStacks(ROOT)) {
    it(stack, async () => {
      const cfg = loadStack(ROOT, stack);
      const scripts = powershellOf(cfg);
      if (cfg.guest.os === "windows") {
        expect([...scripts.keys()].filter((k) => k.includes("-EncodedCommand")).length).toBeGreaterThan(0);
        expect([...scripts.keys()].filter((k) => k.startsWith("cell ")).length).toBe(planCells(cfg).length);
      }
      for (const [name, source] of scripts) await expectParses(`${stack}: ${name}`, source);
    });
  }

  it("and the uso sender's cells", async () => {
    for (const stack of ["mtu1500-uso-on", "mtu9000-uso-off"]) {
      const cfg = loadStack(ROOT, stack);
      const uso: LabConfig = { ...cfg, matrix: { ...cfg.matrix, senders: ["plain", "uso"], payloads: [cfg.offloads.mtu - 28] } };
      const scripts = [...powershellOf(uso)].filter(([k]) => k.startsWith("cell ") && k.includes("-uso-"));
      expect(scripts.filter(([k]) => /B-uso-/.test(k)).length).toBe(uso.matrix.repetitions);
      for (const [name, source] of scripts) await expectParses(`${stack}: ${name}`, source);
    }
  });

  it("and the in-lab arms' USO switch (NetKVM *UsoIPv4/6, one adapter restart)", async () => {
    for (const stack of ["mtu1500-uso-on", "mtu9000-uso-off"]) {
      const cfg = loadStack(ROOT, stack);
      const arms: LabConfig = { ...cfg, matrix: { ...cfg.matrix, usoArms: true } };
      const scripts = [...powershellOf(arms)].filter(([k]) => k.startsWith("uso switch "));
      expect(scripts.map(([k]) => k)).toEqual(["uso switch off.ps1", "uso switch on.ps1"]);
      for (const [name, source] of scripts) {
        await expectParses(`${stack}: ${name}`, source);
        expect(source).toContain("Set-NetAdapterAdvancedProperty");
      }
    }
  });

  it("the loader, decoded from the host scripts, is the loader", () => {
    const cfg = loadStack(ROOT, "mtu9000-uso-on");
    const encoded = [...powershellOf(cfg)].filter(([k]) => k.includes("-EncodedCommand")).map(([, v]) => v);
    expect(new Set(encoded)).toEqual(new Set([POWERSHELL_LOADER]));
  });
});

describe("hostile values, the schema bypassed, stay inert inside one literal", () => {
  const stack = loadStack(ROOT, "mtu9000-uso-on");
  const base: LabConfig = { ...stack, matrix: { ...stack.matrix, senders: ["plain", "uso"], payloads: [8972], usoArms: true } };
  for (const value of HOSTILE_POWERSHELL) {
    it(JSON.stringify(value), async () => {
      const byName: LabConfig = {
        ...base,
        network: { ...base.network, hostAddress: value },
        guest: { ...base.guest, adapterName: value, iperf3Path: value },
      };
      const byMac: LabConfig = { ...base, guest: { ...base.guest, adapterName: undefined, mac: value } };
      let seen = 0;
      for (const [cfg, forms] of [
        [byName, [inLiteral(value), inLiteral(windowsCommandLine([value]))]],
        [byMac, [inLiteral(value.toUpperCase().replace(/:/g, "-"))]],
      ] as const) {
        for (const [name, source] of powershellOf(cfg)) {
          const tree = await parsePowershell(source);
          if (tree.rootNode.hasError) throw new Error(`${name} does not parse with ${JSON.stringify(value)}: ${describeErrors(tree, source)}`);
          for (const form of forms) seen += expectInertLiteral(tree, source, form);
        }
      }
      // The adapter lookup, guest check, offloads, install, the USO switch and every cell carry it.
      expect(seen).toBeGreaterThan(10);
    });
  }
});
