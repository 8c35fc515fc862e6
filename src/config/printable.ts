/**
 * Text from a user's file or command line, made safe to print on a terminal: control
 * characters (C0 but newline and tab, DEL, C1) and the invisible bidirectional and format
 * characters that reorder or hide text become `\u001b`-style escapes, so a binary file or a
 * hostile value cannot move the cursor, recolour the screen or disguise what is printed.
 */
// C0 but \t and \n, DEL, C1, zero-width and bidi marks, bidi embeddings/overrides/isolates, BOM.
const UNPRINTABLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** A value as a message shows it: JSON, escaped, and cut short when long (a whole file can land in one value). */
export function shownValue(value: unknown, max = 100): string {
  if (value === undefined) return "nothing";
  // JSON has no Infinity or NaN (YAML's 1e400, .nan) and would show them as null.
  const json = typeof value === "number" && !Number.isFinite(value)
    ? String(value)
    : JSON.stringify(value, (_k, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v));
  const text = printable(json ?? String(value));
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}
