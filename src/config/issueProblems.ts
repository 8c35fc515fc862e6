import type { z } from "zod";
import type { ConfigProblem } from "./errors";
import { ETHTOOL_FEATURES, VIRTIO_NET_FEATURES } from "./features";
import { NAMESPACE } from "./namespace";
import { allSettingPaths, choicesAt, namesAt, requiredNamesAt } from "./settingNames";
import { didYouMean } from "./suggest";

/**
 * zod's issues as problems a user can act on: the key, the value given, what is allowed, and
 * where it helps a hint — the nearest known name for a misspelt one, the quotes around a
 * number, the map a dotted key should have been.
 */

const keyOf = (path: readonly PropertyKey[]) => `${NAMESPACE}:${path.map(String).join(".")}`;

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = raw;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** Maps whose keys are names from a fixed list: an unknown key there is a misspelt name, not a setting. */
interface NamedMap {
  readonly what: string;
  readonly names: readonly string[];
  /** How the names are described when there are too many to list (the 62 ethtool features). */
  readonly allowed?: string;
}
const ETHTOOL: NamedMap = {
  what: "an ethtool feature",
  names: ETHTOOL_FEATURES,
  allowed: `one of the kernel's ${ETHTOOL_FEATURES.length} feature names as ethtool -k prints them, such as tx-udp-segmentation, tx-generic-segmentation, rx-gro, rx-gro-hw`,
};
const NAMED_MAPS: Readonly<Record<string, NamedMap>> = {
  "hostOffloads.tap": ETHTOOL,
  "hostOffloads.bridge": ETHTOOL,
  "guestOffloads.ethtool": ETHTOOL,
  "guest.virtioNetFeatures": { what: "a virtio-net property the lab sets", names: VIRTIO_NET_FEATURES },
};

/** The nearest names when one is near, else what is allowed: the list, or its description when long. */
function unknownName(map: string, name: string): Pick<ConfigProblem, "allowed" | "hint"> {
  const { what, names, allowed } = NAMED_MAPS[map]!;
  const hint = didYouMean(name, names);
  return { allowed: `is not ${what}${hint === undefined ? ` (allowed: ${allowed ?? names.join(", ")})` : ""}`, hint };
}

/** A setting the schema does not have: the nearest name beside it, or the same name elsewhere. */
function unknownSetting(path: readonly string[], name: string): Pick<ConfigProblem, "allowed" | "hint"> {
  const allowed = "is not a setting of offload-lab (see the README's config reference)";
  const near = didYouMean(name, namesAt(path), (n) => [...path, n].join("."));
  if (near !== undefined) return { allowed, hint: near };
  const dotted = path.length === 0 && name.includes(".") ? name.split(".") : undefined;
  if (dotted !== undefined && allSettingPaths().includes(name)) {
    // `offload-lab:network.mtu: 9000` is one flat key; the lab's settings are maps.
    return {
      allowed,
      hint: `a key holds no dots: write ${NAMESPACE}:${dotted[0]} as a map with ${dotted.slice(1).join(".")} inside (pulumi config set --path '${NAMESPACE}:${name}' VALUE does that)`,
    };
  }
  const elsewhere = allSettingPaths().filter((p) => p.split(".").pop()!.toLowerCase() === name.toLowerCase());
  return { allowed, hint: elsewhere.length > 0 ? `did you mean ${elsewhere.slice(0, 3).join(" or ")}?` : undefined };
}

/** A map expected where something else, or nothing, was given. */
function mapExpected(path: readonly string[], value: unknown): string {
  const required = requiredNamesAt(path);
  if (value === undefined && required.length > 0) return `is required: a map with at least ${required.join(", ")}`;
  const names = namesAt(path);
  const some = names.slice(0, 5).join(", ") + (names.length > 5 ? ", …" : "");
  return NAMED_MAPS[path.join(".")] !== undefined ? `must be a map of names to on or off, such as {${names[0]}: on}` : `must be a map of settings (${some})`;
}

const NUMBER_TEXT = /^\s*-?\d+(\.\d+)?\s*$/;

/** The hint for a value of the wrong kind: mostly YAML quotes, present or missing. */
function typeHint(expected: string, value: unknown): string | undefined {
  if (typeof value === "string" && expected === "number" && NUMBER_TEXT.test(value)) {
    return `the quotes make it text: write ${value.trim()} without quotes`;
  }
  if (typeof value === "string" && expected === "boolean" && /^\s*(true|false)\s*$/i.test(value)) {
    return `the quotes make it text: write ${value.trim().toLowerCase()} without quotes`;
  }
  if ((typeof value === "number" || typeof value === "boolean") && expected === "string") {
    return `YAML reads it as a ${typeof value}: write it in quotes, "${String(value)}"`;
  }
  return undefined;
}

/** The hint for a value outside a fixed list. */
function valueHint(values: readonly unknown[], value: unknown): string | undefined {
  const strings = values.filter((v): v is string => typeof v === "string");
  if (typeof value === "boolean" && strings.includes("on") && strings.includes("off")) {
    return `YAML reads it as a boolean: write "${value ? "on" : "off"}" in quotes`;
  }
  if (typeof value === "string") return didYouMean(value, strings);
  return undefined;
}

export function issueProblems(raw: unknown, issues: readonly z.core.$ZodIssue[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of issues) {
    const path = issue.path.map(String);
    if (issue.code === "unrecognized_keys") {
      for (const k of issue.keys) {
        const key = [...path, k];
        const named = NAMED_MAPS[path.join(".")] !== undefined;
        problems.push({ key: keyOf(key), value: valueAt(raw, key), ...(named ? unknownName(path.join("."), k) : unknownSetting(path, k)) });
      }
      continue;
    }
    const value = valueAt(raw, issue.path);
    let allowed = issue.message;
    let hint: string | undefined;
    if (issue.code === "invalid_type" && (issue.expected === "object" || issue.expected === "record")) {
      allowed = mapExpected(path, value);
    } else if (issue.code === "invalid_type") {
      hint = typeHint(issue.expected, value);
    } else if (issue.code === "invalid_value") {
      hint = valueHint(issue.values, value);
    } else if (issue.code === "invalid_union" && issue.discriminator !== undefined) {
      // The discriminated union's one message serves a missing map too; here the field is there.
      const choices = choicesAt(path);
      allowed = `must be one of: ${choices.map(String).join(", ")}`;
      hint = valueHint(choices, value);
    }
    problems.push({ key: keyOf(issue.path), value, allowed, ...(hint === undefined ? {} : { hint }) });
  }
  return problems;
}
