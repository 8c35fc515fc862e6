import { ps } from "../quote";
import { body, type ScriptFile } from "./files";

/** A PowerShell parameter value: a scalar, a list, or a list of records (`@{ Keyword = …; Value = … }`). */
export type PsValue = string | number | boolean | readonly (string | number)[] | readonly Readonly<Record<string, string | number>>[];

export interface PowershellSpec {
  readonly step: string;
  /** The static body: a `.ps1` file of the step's folder that starts with its `param(...)` block. */
  readonly file: ScriptFile;
  /** `.ps1` files of functions the body calls, defined before it runs. */
  readonly libraries?: readonly ScriptFile[];
  /** Parameter name (as in the body's param block) → value. */
  readonly parameters: Readonly<Record<string, PsValue>>;
}

function psLiteral(v: PsValue): string {
  if (typeof v === "boolean") return v ? "$true" : "$false";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : ps(String(v));
  if (typeof v === "string") return ps(v);
  return `@(${(v as readonly (string | number | Readonly<Record<string, string | number>>)[])
    .map((item) =>
      typeof item === "object"
        ? `@{ ${Object.entries(item).map(([k, x]) => `${psName(k)} = ${psLiteral(x)}`).join("; ")} }`
        : psLiteral(item),
    )
    .join(", ")})`;
}

/** Parameter names are PascalCase words: a name is never built from config. */
function psName(name: string): string {
  if (!/^[A-Z][A-Za-z0-9]*$/.test(name)) throw new Error(`not a PowerShell parameter name: ${name}`);
  return name;
}

/**
 * The names the body's `param(...)` block declares. A script block without [CmdletBinding()]
 * takes a splatted name it does not declare into `$args` without a word and leaves the
 * parameter empty, so the names are checked here, where a mismatch is a bug in plan/.
 */
function declaredParameters(file: ScriptFile, text: string): string[] {
  const start = /^param\(/.exec(text);
  if (start === null) throw new Error(`${file.source} does not start with its param(...) block`);
  // Comments first: a '(' or '$' in one must not count.
  const code = text.replace(/#[^\n]*/g, "");
  let depth = 0;
  for (let i = code.indexOf("("); i < code.length; i++) {
    if (code[i] === "(") depth++;
    else if (code[i] === ")" && --depth === 0) {
      return [...code.slice(0, i).matchAll(/\$([A-Za-z][A-Za-z0-9]*)/g)].map((m) => m[1]!).filter((n) => !/^(true|false|null)$/i.test(n));
    }
  }
  throw new Error(`${file.source}: its param( block does not end`);
}

/**
 * A Windows guest step's script: its libraries' functions, then its static body run as a
 * script block with the stack's values splatted onto the body's own `param(...)` block, each
 * value a single-quoted literal (`ps()`), so nothing from a stack is ever code. Every declared
 * parameter gets a value and every value a declared parameter.
 */
export function powershellScript(spec: PowershellSpec): string {
  const text = body(spec.file);
  const declared = declaredParameters(spec.file, text);
  const given = Object.keys(spec.parameters);
  const missing = declared.filter((n) => !given.includes(n));
  const unknown = given.filter((n) => !declared.includes(n));
  if (missing.length > 0 || unknown.length > 0) {
    throw new Error(`${spec.file.source}: parameters without a value: ${missing.join(", ") || "none"}; values without a parameter: ${unknown.join(", ") || "none"}`);
  }
  const parameters = Object.entries(spec.parameters).map(([k, v]) => `  ${psName(k)} = ${psLiteral(v)}`);
  return [
    `# offload-lab ${spec.step} (Windows guest): ${spec.file.source}, with the stack's values as its parameters`,
    ...(spec.libraries ?? []).map(body),
    "$offloadLabParameters = @{",
    ...parameters,
    "}",
    "& {",
    text,
    "} @offloadLabParameters",
  ].join("\n") + "\n";
}
