import { specialSecretSig, specialSigKey, unknownValue } from "@pulumi/pulumi/runtime/rpc";

// Property values as the provider server hands them over (`Struct.toJavaScript`): secrets are
// objects tagged with Pulumi's signature key, unknowns (preview) a sentinel string.

export type Props = Record<string, unknown>;

export function isSecret(v: unknown): v is { value: unknown } {
  return v !== null && typeof v === "object" && (v as Props)[specialSigKey] === specialSecretSig;
}

export function secret(value: unknown): Props {
  return { [specialSigKey]: specialSecretSig, value };
}

/** The plain value: every secret wrapper removed, at any depth. */
export function reveal(v: unknown): unknown {
  if (isSecret(v)) return reveal(v.value);
  if (Array.isArray(v)) return v.map(reveal);
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, reveal(x)]));
  return v;
}

export function containsSecret(v: unknown): boolean {
  if (isSecret(v)) return true;
  if (Array.isArray(v)) return v.some(containsSecret);
  if (v !== null && typeof v === "object") return Object.values(v).some(containsSecret);
  return false;
}

export function containsUnknown(v: unknown): boolean {
  if (v === unknownValue) return true;
  if (Array.isArray(v)) return v.some(containsUnknown);
  if (v !== null && typeof v === "object") return Object.values(v).some(containsUnknown);
  return false;
}

/** Order-independent text of a value, for comparing old and new inputs. */
export function canonical(v: unknown): string {
  const sort = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sort);
    if (x !== null && typeof x === "object") return Object.fromEntries(Object.keys(x).sort().map((k) => [k, sort((x as Props)[k])]));
    return x;
  };
  return JSON.stringify(sort(reveal(v)) ?? null);
}
