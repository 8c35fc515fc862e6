import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse, stringify } from "yaml";

/**
 * The stack settings the engine works on are a working copy, never the committed
 * stacks/Pulumi.<stack>.yaml: the committed file's config, plus this run's settings (a pool
 * host's connection, the benchmark runId), plus the secrets the engine encrypts into it (a
 * host's key) and the passphrase provider's salt. It lives in
 * .offload-lab/work/<backend digest>/<engine stack>/ (gitignored), one folder per stack so
 * stacks run concurrently without sharing a workspace, and one per backend because the salt
 * belongs to the stack in that backend. A run killed at any moment leaves the repository as it was.
 */
export const WORK_DIR = path.join(".offload-lab", "work");

/** Fields of a stack file the passphrase secrets provider owns. */
const SECRETS_FIELDS = ["encryptionsalt", "secretsprovider", "encryptedkey"] as const;

export function backendKey(backend: string): string {
  return createHash("sha256").update(backend).digest("hex").slice(0, 12);
}

export function workingCopyDir(projectDir: string, backend: string, engineStack: string): string {
  return path.resolve(projectDir, WORK_DIR, backendKey(backend), engineStack);
}

export interface StackDoc {
  config?: Record<string, unknown>;
  [field: string]: unknown;
}

/** A committed stack file's text, parsed; an empty file is an empty stack. */
export function parseStackDoc(text: string): StackDoc {
  const doc = (parse(text) ?? {}) as StackDoc;
  return typeof doc === "object" && !Array.isArray(doc) ? doc : {};
}

/**
 * The working copy's settings: the committed doc with `settings` set over its config (a value
 * whose key is `offload-lab:benchmark.runId`-style, with a dot after the namespace key, is set
 * inside that key's map as `pulumi config set --path` would).
 */
export function withSettings(doc: StackDoc, settings: Readonly<Record<string, unknown>>): StackDoc {
  const config: Record<string, unknown> = { ...(doc.config ?? {}) };
  for (const [key, value] of Object.entries(settings)) {
    const [top, ...rest] = key.split(".");
    if (rest.length === 0) {
      config[top!] = value;
      continue;
    }
    let map = config[top!];
    map = map !== null && typeof map === "object" && !Array.isArray(map) ? { ...(map as Record<string, unknown>) } : {};
    config[top!] = map;
    let cursor = map as Record<string, unknown>;
    for (const [i, part] of rest.entries()) {
      if (i === rest.length - 1) {
        cursor[part] = value;
      } else {
        const next = cursor[part];
        cursor[part] = next !== null && typeof next === "object" && !Array.isArray(next) ? { ...(next as Record<string, unknown>) } : {};
        cursor = cursor[part] as Record<string, unknown>;
      }
    }
  }
  return { ...doc, config };
}

/** Written beside and renamed over, so a kill mid-write leaves the old file or the new one. */
function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/**
 * The project file of the working copy: the committed Pulumi.yaml without `stackConfigDir`
 * (the stack file sits beside it) and with the project plugins' paths made absolute (they are
 * relative to the project file, which is no longer in the checkout's root).
 */
function projectFile(projectDir: string): string {
  const project = parse(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8")) as Record<string, unknown>;
  delete project.stackConfigDir;
  const plugins = project.plugins as { providers?: { path?: string }[] } | undefined;
  for (const p of plugins?.providers ?? []) {
    if (typeof p.path === "string") p.path = path.resolve(projectDir, p.path);
  }
  return stringify(project);
}

/**
 * Writes the working copy for one engine stack and returns its folder. The secrets fields come
 * from the committed file when it has them (its secure values were encrypted with that salt),
 * else from the previous working copy (the stack's secrets in this backend were).
 */
export function writeWorkingCopy(
  projectDir: string,
  backend: string,
  engineStack: string,
  committed: StackDoc,
  settings: Readonly<Record<string, unknown>>,
  keepSalt = true,
): string {
  const dir = workingCopyDir(projectDir, backend, engineStack);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `Pulumi.${engineStack}.yaml`);
  const doc = withSettings(committed, settings);
  if (keepSalt && !SECRETS_FIELDS.some((f) => committed[f] !== undefined) && fs.existsSync(file)) {
    const previous = parseStackDoc(fs.readFileSync(file, "utf8"));
    for (const f of SECRETS_FIELDS) if (previous[f] !== undefined) doc[f] = previous[f];
  }
  writeAtomic(path.join(dir, "Pulumi.yaml"), projectFile(projectDir));
  writeAtomic(file, stringify(doc));
  return dir;
}

/** A folder with only the project file, for engine calls that name no stack (list, remove). */
export function writeProjectOnly(projectDir: string, backend: string): string {
  const dir = path.resolve(projectDir, WORK_DIR, backendKey(backend), "_project");
  fs.mkdirSync(dir, { recursive: true });
  writeAtomic(path.join(dir, "Pulumi.yaml"), projectFile(projectDir));
  return dir;
}

/** Removes a stack's working copy (its stack is gone from the backend, so is its salt's use). */
export function removeWorkingCopy(projectDir: string, backend: string, engineStack: string): void {
  fs.rmSync(workingCopyDir(projectDir, backend, engineStack), { recursive: true, force: true });
}
