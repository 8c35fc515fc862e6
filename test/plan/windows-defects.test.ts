import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { loadStack } from "../../src/config/stackFile";
import { planCells } from "../../src/plan/benchmark/cells";
import { CELL_GRACE_SECONDS, guestCellScript } from "../../src/plan/benchmark/guestCell";
import { windowsCommandLine } from "../../src/plan/benchmark/windowsCommandLine";
import { describeErrors, parsePowershell } from "../support/powershellGrammar";

// One test (or group) per defect of issue 12 in the benchmark's cells; with
// test/plan/powershell-grammar.test.ts for the parse check of all of it. Defects 2, 3, 4, 6,
// the transport's part of 5 and the guest steps' part of 8 are tested beside their steps and
// transports under src/plan/ (guest-offloads, netkvm-install, transport).

const ROOT = path.join(__dirname, "..", "..");
const cfg = loadStack(ROOT, "mtu9000-uso-on");
const cell = planCells(cfg)[0]!;

async function expectParses(source: string): Promise<void> {
  const tree = await parsePowershell(source);
  expect(tree.rootNode.hasError, describeErrors(tree, source)).toBe(false);
}

describe("1: the USO counter is NetKvm_Diag.tx.UdpOffload of the lab adapter", () => {
  const script = guestCellScript(cfg, cell);
  it("reads the embedded tx instance of the instance named like the adapter", async () => {
    expect(script).toContain("$_.InstanceName -eq $adapter.InterfaceDescription");
    expect(script).toContain("[long]$diag['tx']['UdpOffload']");
    expect(script).not.toContain("Select-Object -First 1");
    expect(script).not.toMatch(/\$diag\.UdpOffload/);
    await expectParses(script);
  });
});

describe("5: the guest gives up before the host", () => {
  it("the cell's own deadline is shorter than the host's", () => {
    const ms = Number(/WaitForExit\((\d+)\)/.exec(guestCellScript(cfg, cell))![1]);
    expect(ms).toBeLessThan((cell.durationSeconds + CELL_GRACE_SECONDS) * 1000);
    expect(ms).toBeGreaterThan(cell.durationSeconds * 1000);
  });
});

describe("7: iperf3.exe through System.Diagnostics.Process, arguments quoted for Windows", () => {
  it("keeps the exit code and both streams however fast iperf3 ends", async () => {
    const script = guestCellScript(cfg, cell);
    expect(script).not.toContain("Start-Process");
    expect(script).toContain("$p = [System.Diagnostics.Process]::Start($start)");
    expect(script).toContain("$outTask = $p.StandardOutput.ReadToEndAsync()");
    expect(script).toContain("$start.Arguments = '-c 192.168.122.1 -p 12345 -u -l 8972 -b 1G -t 10 -J --get-server-output --connect-timeout 5000'");
    await expectParses(script);
  });
  it.each([
    [["plain", "-x"], "plain -x"],
    [["with space"], '"with space"'],
    [[""], '""'],
    [['say "hi"'], '"say \\"hi\\""'],
    [["C:\\dir with space\\"], '"C:\\dir with space\\\\"'],
    [['a\\"b'], '"a\\\\\\"b"'],
    [["C:\\no\\space"], "C:\\no\\space"],
  ])("quotes %j as %s", (args, line) => {
    expect(windowsCommandLine(args)).toBe(line);
  });
});

describe("8: smaller points", () => {
  it("the cell reads no file with Get-Content's default encoding", () => {
    expect(guestCellScript(cfg, cell)).not.toContain("Get-Content");
  });
  it("a cell script's comment stays one line whatever the cell id holds", async () => {
    const script = guestCellScript(cfg, { ...cell, id: "udp-1B\nStop-Computer\r-r1" });
    expect(script.split("\n")[0]).toBe("# offload-lab cell udp-1BStop-Computer-r1");
    await expectParses(script);
  });
});
