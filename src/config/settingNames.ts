import type { z } from "zod";
import { labSchema } from "./schema";

/**
 * The setting names the schema accepts, read from the schema itself so a "did you mean" can
 * never offer a name that validation would refuse. Walks zod 4's public definitions
 * (`_zod.def`): objects, discriminated unions, records with a fixed key list, arrays, and the
 * optional/default wrappers.
 */
type Def = {
  type: string;
  innerType?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  options?: z.ZodType[];
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  element?: z.ZodType;
  entries?: Record<string, string>;
  values?: unknown[];
};

const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;
/** zod marks a field that may be left out (optional, or with a default) with `optin`. */
const mayBeLeftOut = (s: z.ZodType): boolean => (s as unknown as { _zod: { optin?: string } })._zod.optin !== undefined;

function unwrap(s: z.ZodType): z.ZodType {
  let cur = s;
  for (let def = defOf(cur); def.innerType !== undefined && ["optional", "default", "prefault", "nullable", "readonly"].includes(def.type); def = defOf(cur)) {
    cur = def.innerType;
  }
  return cur;
}

/** Each object the value at this schema can be, with its fields (a union has several). */
function shapes(s: z.ZodType): Record<string, z.ZodType>[] {
  const def = defOf(unwrap(s));
  if (def.type === "object") return [def.shape!];
  if (def.type === "union") return def.options!.flatMap(shapes);
  return [];
}

function childOf(s: z.ZodType, segment: string): z.ZodType | undefined {
  const def = defOf(unwrap(s));
  if (def.type === "record") return def.valueType;
  if (def.type === "array") return /^\d+$/.test(segment) ? def.element : undefined;
  return shapes(s).map((shape) => shape[segment]).find((c) => c !== undefined);
}

function schemaAt(path: readonly string[]): z.ZodType | undefined {
  let s: z.ZodType | undefined = labSchema;
  for (const segment of path) s = s === undefined ? undefined : childOf(s, segment);
  return s;
}

/** The names a map at `path` takes: an object's fields, or a record's fixed keys; [] otherwise. */
export function namesAt(path: readonly string[]): string[] {
  const s = schemaAt(path);
  if (s === undefined) return [];
  const def = defOf(unwrap(s));
  if (def.type === "record") return Object.keys(defOf(unwrap(def.keyType!)).entries ?? {});
  return [...new Set(shapes(s).flatMap((shape) => Object.keys(shape)))];
}

/**
 * The values a field takes when it is a fixed choice: an enum's, or a literal's across the
 * objects a union can be (the discriminator of `host`: local, ssh).
 */
export function choicesAt(path: readonly string[]): unknown[] {
  const parent = schemaAt(path.slice(0, -1));
  const name = path[path.length - 1];
  if (parent === undefined || name === undefined) return [];
  return [...new Set(shapes(parent).flatMap((shape) => {
    const field = shape[name];
    if (field === undefined) return [];
    const def = defOf(unwrap(field));
    return def.type === "enum" ? Object.values(def.entries ?? {}) : def.type === "literal" ? (def.values ?? []) : [];
  }))];
}

/** The fields of the object at `path` that have no default and must be given. */
export function requiredNamesAt(path: readonly string[]): string[] {
  const s = schemaAt(path);
  if (s === undefined) return [];
  const [first] = shapes(s);
  return Object.entries(first ?? {}).filter(([, field]) => !mayBeLeftOut(field)).map(([name]) => name);
}

/** Every object field of the schema as a dotted path (`guest.vcpus`), records' keys excluded. */
export function allSettingPaths(): string[] {
  const out: string[] = [];
  const walk = (s: z.ZodType, prefix: string[]) => {
    for (const shape of shapes(s)) {
      for (const [name, field] of Object.entries(shape)) {
        const path = [...prefix, name];
        if (!out.includes(path.join("."))) out.push(path.join("."));
        walk(field, path);
      }
    }
  };
  walk(labSchema, []);
  return out;
}
