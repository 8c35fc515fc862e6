import { createHash } from "node:crypto";

/**
 * A UUID fixed by the stack and the object's name. libvirt refuses to redefine an object
 * under a new UUID, so a stable one is what makes `define` safe to re-run.
 */
export function stableUuid(...parts: readonly string[]): string {
  const h = createHash("sha256").update(parts.join("\u0000")).digest();
  h[6] = (h[6]! & 0x0f) | 0x50; // version 5 layout: name-based
  h[8] = (h[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = h.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
