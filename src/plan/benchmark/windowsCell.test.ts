import { beforeAll, describe, expect, it } from "vitest";
import { describeErrors, expectInertLiteral, parsePowershell, powershellParser } from "../../../test/support/powershellGrammar";
import { everyStack, PROJECT } from "../../../test/support/stacks";
import type { LabConfig } from "../../config/model";
import { loadStack } from "../../config/stackFile";
import { ps } from "../quote";
import { planCells } from "./cells";
import { CELL_GRACE_SECONDS, guestCellScript } from "./guestCell";
import { windowsCommandLine } from "./windowsCommandLine";

// The Windows cells (windows-iperf3-cell.ps1, windows-uso-cell.ps1) as a guest receives them:
// PowerShell's grammar (tree-sitter) over every cell of every Windows stack, hostile values
// inside one single-quoted literal each, and the cell points of issue 12 (test/plan/
// windows-defects.test.ts keeps the others).

async function expectParses(name: string, source: string): Promise<void> {
  const tree = await parsePowershell(source);
  if (tree.rootNode.hasError) throw new Error(`${name} does not parse: ${describeErrors(tree, source)}`);
}

/** The stack with the uso sender beside plain, at a payload the uso sender takes. */
function withUso(cfg: LabConfig): LabConfig {
  return { ...cfg, matrix: { ...cfg.matrix, senders: ["plain", "uso"], payloads: [cfg.offloads.mtu - 28] } };
}

beforeAll(async () => {
  await powershellParser();
});

describe("every Windows cell parses", () => {
  for (const cfg of everyStack().filter((c) => c.guest.os === "windows")) {
    it(cfg.stack, async () => {
      for (const c of [cfg, withUso(cfg)]) {
        for (const cell of planCells(c)) await expectParses(`${c.stack} ${cell.id}`, guestCellScript(c, cell));
      }
    });
  }
});

/** Distinctive (OLX) values that try every way out of a PowerShell single-quoted literal. */
const HOSTILE = [
  "OLX'; Stop-Computer; '",
  "OLX$(Stop-Computer)",
  "OLX`whoami`",
  'OLX"; Stop-Computer; "',
  "OLX\nStop-Computer\n",
  "OLX @(1) @{a=1} #c <#x#> '@",
  "OLX $env:PATH ${x} -f 1",
  "OLX’; Stop-Computer; ‘",
  "OLX\\\\server\\share\\",
];

/** The text a value becomes inside a single-quoted literal. */
const inLiteral = (v: string) => ps(v).slice(1, -1);

describe("hostile values, the schema bypassed, stay inert inside one literal", () => {
  const base = withUso(loadStack(PROJECT, "mtu9000-uso-on"));
  for (const value of HOSTILE) {
    it(JSON.stringify(value), async () => {
      const byName: LabConfig = { ...base, network: { ...base.network, hostAddress: value }, guest: { ...base.guest, adapterName: value, iperf3Path: value } };
      const byMac: LabConfig = { ...base, guest: { ...base.guest, adapterName: undefined, mac: value } };
      const seen = { plain: 0, uso: 0 };
      for (const [cfg, forms] of [
        [byName, [inLiteral(value), inLiteral(windowsCommandLine([value]))]],
        [byMac, [inLiteral(value.toUpperCase().replace(/:/g, "-"))]],
      ] as const) {
        for (const cell of planCells(cfg)) {
          const source = guestCellScript(cfg, cell);
          const tree = await parsePowershell(source);
          if (tree.rootNode.hasError) throw new Error(`${cell.id} does not parse with ${JSON.stringify(value)}: ${describeErrors(tree, source)}`);
          for (const form of forms) seen[cell.sender as "plain" | "uso"] += expectInertLiteral(tree, source, form);
        }
      }
      // Each cell carries the adapter (by name, by MAC); plain the iperf3 path and its
      // argument line with the host address, uso the host address.
      expect(seen.plain).toBeGreaterThanOrEqual(3 * base.matrix.repetitions);
      expect(seen.uso).toBeGreaterThanOrEqual(3 * base.matrix.repetitions);
    });
  }
});

const cfg = loadStack(PROJECT, "mtu9000-uso-on");
const cell = planCells(cfg)[0]!;

describe("issue 12 in the cells", () => {
  it("1: the USO counter is NetKvm_Diag.tx.UdpOffload of the lab adapter, read from the instance named like it", async () => {
    const script = guestCellScript(cfg, cell);
    expect(script).toContain("$_.InstanceName -eq $Adapter.InterfaceDescription");
    expect(script).toContain("[long]$diag['tx']['UdpOffload']");
    expect(script).toContain("$before = Get-CellUdpOffloadCount $adapter");
    expect(script).not.toContain("Select-Object -First 1");
    expect(script).not.toMatch(/\$diag\.UdpOffload/);
    await expectParses("cell", script);
  });

  it("5: the cell's own deadline is shorter than the host's", () => {
    const ms = Number(/ DeadlineMs = (\d+)\n/.exec(guestCellScript(cfg, cell))![1]);
    expect(ms).toBeLessThan((cell.durationSeconds + CELL_GRACE_SECONDS) * 1000);
    expect(ms).toBeGreaterThan(cell.durationSeconds * 1000);
    expect(guestCellScript(cfg, cell)).toContain("if ($p.WaitForExit($DeadlineMs))");
  });

  it("7: iperf3.exe through System.Diagnostics.Process keeps the exit code and both streams however fast iperf3 ends", async () => {
    const script = guestCellScript(cfg, cell);
    // Its comment says why not; no line of code calls it.
    expect(script.split("\n").filter((l) => !l.trim().startsWith("#")).join("\n")).not.toContain("Start-Process");
    expect(script).toContain("$p = [System.Diagnostics.Process]::Start($start)");
    expect(script).toContain("$outTask = $p.StandardOutput.ReadToEndAsync()");
    expect(script).toContain("  Arguments = '-c 192.168.122.1 -p 12345 -u -l 8972 -b 1G -t 10 -J --get-server-output --connect-timeout 5000'\n");
    expect(script).toContain("$start.Arguments = $Arguments");
    await expectParses("cell", script);
  });

  it.each([
    [["plain", "-x"], "plain -x"],
    [["with space"], '"with space"'],
    [[""], '""'],
    [['say "hi"'], '"say \\"hi\\""'],
    [["C:\\dir with space\\"], '"C:\\dir with space\\\\"'],
    [['a\\"b'], '"a\\\\\\"b"'],
    [["C:\\no\\space"], "C:\\no\\space"],
  ])("7: the argument line quotes %j as %s for Windows", (args, line) => {
    expect(windowsCommandLine(args)).toBe(line);
  });

  it("8: the cell reads no file with Get-Content's default encoding", () => {
    expect(guestCellScript(cfg, cell)).not.toContain("Get-Content");
  });

  it("8: the cell script's comment stays one line whatever the cell id holds: the id is not in it", async () => {
    const script = guestCellScript(cfg, { ...cell, id: "udp-1B\nStop-Computer\r-r1" });
    expect(script.split("\n")[0]).toBe("# offload-lab benchmark (Windows guest): src/plan/benchmark/windows-iperf3-cell.ps1, with the stack's values as its parameters");
    expect(script).not.toContain("Stop-Computer");
    await expectParses("cell", script);
  });
});
