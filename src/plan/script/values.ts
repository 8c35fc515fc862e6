/** A value a step binds into its script: a string or number, or (bash, PowerShell) a list of them. */
export type Scalar = string | number;
export type ScriptValue = Scalar | readonly Scalar[];

/** Upper case, so a script's own lower-case variables can never be taken for a bound value. */
const NAME = /^[A-Z][A-Z0-9_]*$/;

export function checkedName(name: string): string {
  if (!NAME.test(name)) throw new Error(`not a script variable name: ${name}`);
  return name;
}
