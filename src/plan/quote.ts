// One quoting function per language a config value can reach. Values are also restricted by
// the config schema, but a script must stay correct even for a value the schema lets through.

/**
 * One bash (or POSIX sh) word that expands to exactly `value`, in the form ShellCheck reads
 * without a note: bare when no shell gives any of its characters a meaning, else in double
 * quotes with `\`, `$`, `` ` `` and `"` escaped (the only characters special inside them; a
 * non-interactive shell does no history expansion). shell-quote's backslash form is just as
 * exact, but ShellCheck notes every `\:` of a libvirt URI or a MAC address (SC1001), and its
 * single quotes around a `$` (SC2016); the lab lints every script it runs.
 */
export function sh(value: string | number): string {
  const s = String(value);
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `"${s.replace(/[\\$`"]/g, "\\$&")}"`;
}

/** Several bash words, each exactly one argument. */
export function shArgs(values: readonly (string | number)[]): string {
  return values.map(sh).join(" ");
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
