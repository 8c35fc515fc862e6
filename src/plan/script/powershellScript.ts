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
 * A Windows guest step's script: its libraries' functions, then its static body run as a
 * script block with the stack's values splatted onto the body's own `param(...)` block, each
 * value a single-quoted literal (`ps()`), so nothing from a stack is ever code.
 */
export function powershellScript(spec: PowershellSpec): string {
  const parameters = Object.entries(spec.parameters).map(([k, v]) => `  ${psName(k)} = ${psLiteral(v)}`);
  return [
    `# offload-lab ${spec.step} (Windows guest): ${spec.file.source}, with the stack's values as its parameters`,
    ...(spec.libraries ?? []).map(body),
    "$offloadLabParameters = @{",
    ...parameters,
    "}",
    "& {",
    body(spec.file),
    "} @offloadLabParameters",
  ].join("\n") + "\n";
}
