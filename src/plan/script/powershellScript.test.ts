import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeErrors, expectInertLiteral, HOSTILE_POWERSHELL, inLiteral, parsePowershell, powershellParser } from "../../../test/support/powershellGrammar";
import { scriptFile } from "./files";
import { powershellScript } from "./powershellScript";

let dir: string;
beforeAll(async () => {
  await powershellParser();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ol-ps-"));
  fs.writeFileSync(path.join(dir, "body.ps1"), "param(\n  # a comment with $NotAParameter (\n  [string]$Name,\n  [object[]]$Records,\n  [string[]]$List,\n  [int]$Count,\n  [bool]$On\n)\nWrite-Output $Name $Records $List $Count $On\n");
  fs.writeFileSync(path.join(dir, "lib.ps1"), "function Get-X($A) { $A }\n");
  fs.writeFileSync(path.join(dir, "noparam.ps1"), "Write-Output 1\n");
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const render = (name: string) =>
  powershellScript({
    step: "test",
    file: scriptFile(dir, "body.ps1"),
    libraries: [scriptFile(dir, "lib.ps1")],
    parameters: { Name: name, Records: [{ Keyword: name, Value: name }, { Keyword: "k", Value: 7 }], List: [name, 1], Count: 3, On: true },
  });

describe("the grammar check itself", () => {
  it.each([
    ["an unclosed block", "if ($x) { Write-Output 1"],
    ["an unclosed string", "$a = 'abc"],
    ["an unclosed sub-expression", '$a = "x $(Get-Date"'],
  ])("fails on %s", async (_what, source) => {
    expect((await parsePowershell(source)).rootNode.hasError).toBe(true);
  });

  it("finds a value that escaped its literal", async () => {
    const source = "$a = 'x'; Stop-Computer; 'y'";
    expect(() => expectInertLiteral(parsePowershellSync(source), source, "x'; Stop-Computer; 'y")).toThrow(/string literal/);
  });
});

let parsed: (source: string) => ReturnType<Awaited<ReturnType<typeof powershellParser>>["parse"]>;
function parsePowershellSync(source: string) {
  const tree = parsed(source);
  if (tree === null) throw new Error("no tree");
  return tree;
}
beforeAll(async () => {
  const p = await powershellParser();
  parsed = (s) => p.parse(s);
});

describe("powershellScript", () => {
  it("defines the libraries, then runs the body with the values splatted onto its param block", async () => {
    const script = render("plain");
    expect(script).toBe(
      [
        "# offload-lab test (Windows guest): " + scriptFile(dir, "body.ps1").source + ", with the stack's values as its parameters",
        "function Get-X($A) { $A }",
        "$offloadLabParameters = @{",
        "  Name = 'plain'",
        "  Records = @(@{ Keyword = 'plain'; Value = 'plain' }, @{ Keyword = 'k'; Value = 7 })",
        "  List = @('plain', 1)",
        "  Count = 3",
        "  On = $true",
        "}",
        "& {",
        fs.readFileSync(path.join(dir, "body.ps1"), "utf8").trim(),
        "} @offloadLabParameters",
        "",
      ].join("\n"),
    );
    const tree = await parsePowershell(script);
    expect(tree.rootNode.hasError, describeErrors(tree, script)).toBe(false);
  });

  for (const value of HOSTILE_POWERSHELL) {
    it(`keeps ${JSON.stringify(value)} inert inside one literal, as a scalar, a list item and a record field`, async () => {
      const script = render(value);
      const tree = await parsePowershell(script);
      expect(tree.rootNode.hasError, describeErrors(tree, script)).toBe(false);
      expect(expectInertLiteral(tree, script, inLiteral(value))).toBe(4);
    });
  }

  it("refuses a parameter the body does not declare, and a declared one without a value", () => {
    const file = scriptFile(dir, "body.ps1");
    const values = { Name: "n", Records: [], List: [], Count: 1, On: false };
    expect(() => powershellScript({ step: "t", file, parameters: { ...values, Nmae: "typo" } })).toThrow(/values without a parameter: Nmae/);
    const { Count: _count, ...withoutCount } = values;
    expect(() => powershellScript({ step: "t", file, parameters: withoutCount })).toThrow(/parameters without a value: Count;/);
    expect(() => powershellScript({ step: "t", file: scriptFile(dir, "noparam.ps1"), parameters: {} })).toThrow(/does not start with its param\(\.\.\.\) block/);
  });

  it("refuses a parameter name that is not a PascalCase word", () => {
    fs.writeFileSync(path.join(dir, "odd.ps1"), "param([string]$a)\n");
    expect(() => powershellScript({ step: "t", file: scriptFile(dir, "odd.ps1"), parameters: { a: "x" } })).toThrow(/not a PowerShell parameter name: a/);
  });
});
