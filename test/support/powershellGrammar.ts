import { createRequire } from "node:module";
import { Language, Parser, type Node, type Tree } from "web-tree-sitter";
import { ps } from "../../src/plan/quote";

// PowerShell's grammar (tree-sitter-powershell, its own .wasm) through web-tree-sitter: no
// native build, no Windows. It proves the scripts parse and where each value sits in the
// tree; it does not run them, and it does not treat the typographic quotes U+2018..U+201B as
// quotes, as PowerShell does (the ps() tests cover those).

const require = createRequire(__filename);
let parser: Promise<Parser> | undefined;

export function powershellParser(): Promise<Parser> {
  parser ??= (async () => {
    await Parser.init();
    const language = await Language.load(require.resolve("tree-sitter-powershell/tree-sitter-powershell.wasm"));
    const p = new Parser();
    p.setLanguage(language);
    return p;
  })();
  return parser;
}

export async function parsePowershell(source: string): Promise<Tree> {
  const tree = (await powershellParser()).parse(source);
  if (tree === null) throw new Error("tree-sitter returned no tree");
  return tree;
}

/**
 * Where the tree went wrong, for the failure message only: the assertion is
 * `rootNode.hasError`, which also counts MISSING nodes that a cursor walk does not visit.
 */
export function describeErrors(tree: Tree, source: string): string {
  const found: string[] = [];
  const visit = (n: Node) => {
    if (found.length >= 5) return;
    if (n.isError || n.isMissing) {
      const line = source.slice(0, n.startIndex).split("\n").length;
      found.push(`${n.isMissing ? `MISSING ${n.type}` : "ERROR"} at line ${line}: ${JSON.stringify(n.text.slice(0, 80))}`);
      return;
    }
    for (const c of n.children) if (c !== null && c.hasError) visit(c);
  };
  visit(tree.rootNode);
  return found.join("; ") || "hasError with no ERROR node found";
}

/** Node types that would mean PowerShell runs or expands something. */
const ACTIVE = new Set(["command", "command_name", "sub_expression", "variable", "expandable_string_literal", "expandable_here_string_literal", "script_block", "invokation_expression", "member_access"]);

/**
 * Every place `literal` occurs in `source` must be wholly inside one single-quoted string
 * node, with nothing active inside that node. Returns how many places were checked.
 */
export function expectInertLiteral(tree: Tree, source: string, literal: string): number {
  let count = 0;
  for (let at = source.indexOf(literal); at !== -1; at = source.indexOf(literal, at + 1)) {
    count++;
    let node: Node | null = tree.rootNode.descendantForIndex(at, at + literal.length - 1);
    while (node !== null && node.type !== "string_literal") node = node.parent;
    const where = `${JSON.stringify(literal)} at ${at}`;
    if (node === null) throw new Error(`${where} is not inside a string literal`);
    if (node.startIndex > at || node.endIndex < at + literal.length) throw new Error(`${where} is not wholly inside one string literal (${JSON.stringify(node.text)})`);
    const kinds = node.children.map((c) => c?.type);
    if (kinds.length !== 1 || kinds[0] !== "verbatim_string_characters") throw new Error(`${where} is in a ${kinds.join(",")} string, not a single-quoted one`);
    const active = node.descendantsOfType([...ACTIVE]).filter((d) => d !== null);
    if (active.length > 0) throw new Error(`${where}: ${active.map((d) => d!.type).join(", ")} inside the literal`);
  }
  return count;
}

/** The PowerShell a host script carries as `-EncodedCommand BASE64` (UTF-16LE), decoded. */
export function encodedCommands(hostScript: string): string[] {
  return [...hostScript.matchAll(/-EncodedCommand[\\",\s]+([A-Za-z0-9+/=]+)/g)].map((m) => Buffer.from(m[1]!, "base64").toString("utf16le"));
}

/** Distinctive (OLX) values that try every way out of a PowerShell single-quoted literal. */
export const HOSTILE_POWERSHELL = [
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
export const inLiteral = (v: string): string => ps(v).slice(1, -1);
