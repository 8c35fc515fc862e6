/**
 * A string as QEMU's JSON writer prints it (qobject/qjson.c): printable ASCII as is, `"` and
 * `\` escaped, everything else as \uXXXX in upper-case hex (UTF-16 units). `qemu-img info
 * --output=json` can then be searched for an exact value with `grep -F`.
 */
export function qemuJsonString(value: string): string {
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const ch = value[i]!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c >= 0x20 && c <= 0x7e) out += ch;
    else out += `\\u${c.toString(16).toUpperCase().padStart(4, "0")}`;
  }
  return out + '"';
}
