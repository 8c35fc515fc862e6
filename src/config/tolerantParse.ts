import type { z } from "zod";
import { namesAt } from "./settingNames";
import { labSchema, type LabSettings } from "./schema";

/**
 * The settings with every refused value taken out (so its default applies) and every refused
 * or missing required value replaced by a stand-in, so that the rules across settings can be
 * judged on the rest. `invalid` lists the dotted paths taken out or stood in for: a rule that
 * reads one of them is not judged. `settings` is undefined when the settings cannot be made
 * whole; then only the per-setting problems are reported.
 */
export interface TolerantParse {
  readonly settings?: LabSettings;
  readonly invalid: readonly string[];
}

/**
 * Stand-ins for the required values that have no default. Any value the schema accepts will
 * do: every rule that reads one of these paths is skipped.
 */
const STAND_IN: Readonly<Record<string, unknown>> = {
  "guest.os": "linux",
  "guest.name": "guest",
  "guest.baseImage": "/",
  "host.address": "localhost",
  "host.jump.address": "localhost",
};

type Tree = Record<string, unknown>;

const isMap = (v: unknown): v is Tree => v !== null && typeof v === "object" && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

/** Plain maps and lists copied, anything else (a SecretValue, a scalar) shared. */
function copy(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(copy);
  if (isMap(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copy(x)]));
  return v;
}

function parentOf(root: Tree, path: readonly string[]): Tree | undefined {
  let v: unknown = root;
  for (const p of path.slice(0, -1)) v = isMap(v) ? v[p] : undefined;
  return isMap(v) ? v : undefined;
}

/**
 * The path a fix applies to: a refused list item refuses the whole list (dropping one item
 * would change what the list means); a key the map does not know is the key itself.
 */
function fixPath(issue: z.core.$ZodIssue, key?: string): string[] {
  const path = issue.path.map(String);
  const firstIndex = issue.path.findIndex((p) => typeof p === "number");
  const cut = firstIndex < 0 ? path : path.slice(0, firstIndex);
  return key === undefined ? cut : [...cut, key];
}

export function tolerantParse(raw: Readonly<Record<string, unknown>>): TolerantParse {
  const value = copy(raw) as Tree;
  const invalid: string[] = [];
  // Each round fixes what the last parse refused; a fix can reveal one more level (a refused
  // map becomes a missing one, then its required fields are missing), hence a few rounds.
  for (let round = 0; round < 8; round++) {
    const parsed = labSchema.safeParse(value);
    if (parsed.success) return { settings: parsed.data, invalid };
    for (const issue of parsed.error.issues) {
      const keys = issue.code === "unrecognized_keys" ? issue.keys : [undefined];
      for (const key of keys) {
        let path = fixPath(issue, key);
        let parent = parentOf(value, path);
        const name = path[path.length - 1];
        if (parent === undefined || name === undefined) return { invalid };
        if (parent[name] !== undefined) {
          delete parent[name];
        } else if (path.join(".") in STAND_IN) {
          parent[name] = STAND_IN[path.join(".")];
        } else if (namesAt(path).length > 0) {
          parent[name] = {};
        } else {
          // Missing with nothing to stand in (a union's discriminator): take out the map around it.
          path = path.slice(0, -1);
          parent = parentOf(value, path);
          if (parent === undefined || path.length === 0) return { invalid };
          delete parent[path[path.length - 1]!];
        }
        invalid.push(path.join("."));
      }
    }
  }
  return { invalid };
}
