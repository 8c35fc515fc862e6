import { quote } from "shell-quote";

// One quoting function per language a config value can reach. Values are also restricted by
// the config schema, but a script must stay correct even for a value the schema lets through.

/** One bash word that expands to exactly `value`. */
export function sh(value: string | number): string {
  return quote([String(value)]);
}

/** Several bash words, each exactly one argument. */
export function shArgs(values: readonly (string | number)[]): string {
  return quote(values.map(String));
}

/**
 * A PowerShell single-quoted literal. PowerShell treats the typographic quotes U+2018..U+201B
 * as quote characters too, so each of them is doubled like an apostrophe. No npm library
 * quotes for PowerShell off Windows, so this rule (from the PowerShell language spec,
 * "verbatim string literals") is kept here with its hostile-input tests.
 */
export function ps(value: string | number): string {
  return `'${String(value).replace(/['\u2018\u2019\u201a\u201b]/g, (q) => q + q)}'`;
}

/** `powershell.exe -EncodedCommand` takes base64 of UTF-16LE: no quoting layer can break it. */
export function powershellEncoded(script: string): string {
  return Buffer.from(script, "utf16le").toString("base64");
}
