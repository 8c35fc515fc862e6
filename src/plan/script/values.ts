import { sh } from "../quote";

/** A value a step binds into its script: a string or number, or (bash, PowerShell) a list of them. */
export type Scalar = string | number;
export type ScriptValue = Scalar | readonly Scalar[];

/** Upper case, so a script's own lower-case variables can never be taken for a bound value. */
const NAME = /^[A-Z][A-Z0-9_]*$/;

export function checkedName(name: string): string {
  if (!NAME.test(name)) throw new Error(`not a script variable name: ${name}`);
  return name;
}

/**
 * The bash or POSIX sh word a bound value becomes: sh(), except that shell-quote writes a word
 * without spaces or quotes with backslash escapes, and bash reads `\:`, `\=` and `\^` as the
 * plain character but shellcheck flags each (SC1001), which every URI and MAC would draw. Such
 * a word goes in single quotes instead, which say the same when it holds no quote.
 */
export function boundWord(value: Scalar): string {
  const s = String(value);
  const quoted = sh(s);
  return quoted.includes("\\") && !s.includes("'") ? `'${s}'` : quoted;
}
