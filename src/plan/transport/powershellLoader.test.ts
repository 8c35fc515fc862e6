import { beforeAll, describe, expect, it } from "vitest";
import { describeErrors, encodedCommands, parsePowershell, powershellParser } from "../../../test/support/powershellGrammar";
import { agentTransport, sshTransport } from ".";
import { POWERSHELL_ARGV, POWERSHELL_LOADER } from "./powershellLoader";

async function expectParses(source: string): Promise<void> {
  const tree = await parsePowershell(source);
  expect(tree.rootNode.hasError, describeErrors(tree, source)).toBe(false);
}

beforeAll(async () => {
  await powershellParser();
});

// Issue 12 defect 4 (test/plan/windows-defects.test.ts before the restructure).
describe("4: no CLIXML on stderr", () => {
  it("the loader sets the preferences and writes every record as a plain line", async () => {
    expect(POWERSHELL_LOADER).toContain("$ProgressPreference = 'SilentlyContinue'");
    expect(POWERSHELL_LOADER).toContain("& $guestScript *>&1 | ForEach-Object {");
    expect(POWERSHELL_LOADER).toContain('[System.Management.Automation.ErrorRecord]) { [Console]::Error.WriteLine("error: $_") }');
    expect(POWERSHELL_LOADER).toContain("[System.Management.Automation.WarningRecord]) { [Console]::Error.WriteLine(\"warning: $($_.Message)\") }");
    await expectParses(POWERSHELL_LOADER);
  });
  it("and UTF-8 on both streams, explicitly", () => {
    expect(POWERSHELL_LOADER).toContain("[Console]::SetOut($stdout)");
    expect(POWERSHELL_LOADER).toContain("[Console]::SetError($stderr)");
    expect(POWERSHELL_LOADER).toContain("$utf8 = New-Object System.Text.UTF8Encoding $false");
  });
});

describe("the loader on the command line", () => {
  it("is what both Windows transports encode, and it decodes to the loader", async () => {
    for (const t of [
      agentTransport({ uri: "qemu:///system", domain: "w", os: "windows", timeoutSeconds: 1 }),
      sshTransport({ address: "10.77.0.10", user: "lab", port: 22, os: "windows", timeoutSeconds: 1 }),
    ]) {
      const decoded = encodedCommands(t.functionDefinition);
      expect(decoded).toEqual([POWERSHELL_LOADER]);
      await expectParses(decoded[0]!);
    }
  });

  it("stays far below cmd.exe's 8191-character command line", () => {
    expect(POWERSHELL_ARGV.join(" ").length).toBeLessThan(8191);
  });
});

// Issue 18 item 7: Write-Host (and Write-Information) write an InformationRecord, which is not
// an InformationalRecord (that is the base of warning, verbose and debug records); the loader
// sent it to stdout, where it broke the step's one-JSON parse.
describe("information records go to stderr", () => {
  it("an InformationRecord is matched before the branch that writes to stdout, and written to stderr", async () => {
    const lines = POWERSHELL_LOADER.split("\n");
    const information = lines.findIndex((l) => l.includes("-is [System.Management.Automation.InformationRecord]"));
    const toStdout = lines.findIndex((l) => l.includes("else { [Console]::Out.WriteLine("));
    expect(information).toBeGreaterThan(0);
    expect(information).toBeLessThan(toStdout);
    expect(lines[information]).toContain('{ [Console]::Error.WriteLine("$($_.MessageData)") }');
    // Every record kind the pipeline can carry besides output, each to stderr.
    for (const kind of ["ErrorRecord", "WarningRecord", "InformationalRecord", "InformationRecord"]) {
      const line = lines.find((l) => l.includes(`-is [System.Management.Automation.${kind}]`));
      expect(line, kind).toContain("[Console]::Error.WriteLine(");
    }
    await expectParses(POWERSHELL_LOADER);
  });
});
