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
