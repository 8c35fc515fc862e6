import * as fs from "node:fs";
import * as path from "node:path";
import { UsageError } from "./errors";
import { plural } from "./plural";
import type { Manifest } from "./render";

/**
 * `render --out` writes into a new or empty folder, or one an earlier render wrote, whose old
 * files it replaces: the folder then holds exactly this render, never a mix of two stacks.
 * Anything else is refused, and nothing of the user's is ever deleted.
 */

const MANIFEST = "manifest.json";

/** The files an earlier render wrote, by its manifest.json; undefined when there is none or it is no render's. */
function renderedFiles(dir: string): { stack: string; files: Set<string> } | undefined {
  let doc: Partial<Manifest>;
  try {
    doc = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), "utf8")) as Partial<Manifest>;
  } catch {
    return undefined;
  }
  if (typeof doc.stack !== "string" || !Array.isArray(doc.steps)) return undefined;
  const files = new Set([MANIFEST]);
  for (const s of doc.steps) {
    for (const f of [s.create, s.delete, s.hostCommand, ...(Array.isArray(s.documents) ? s.documents : [])]) {
      // Only plain names: a manifest naming ../x must not make render delete outside the folder.
      if (typeof f === "string" && f === path.basename(f) && f !== "." && f !== "..") files.add(f);
    }
  }
  return { stack: doc.stack, files };
}

const listed = (names: readonly string[]) => names.slice(0, 5).join(", ") + (names.length > 5 ? `, … (${names.length} in all)` : "");

/**
 * Writes `files` into `dir` (created when missing) and returns what it replaced, e.g.
 * `replaced 24 files of an earlier render of linux-uso-on`, or undefined. The manifest is written
 * first, so that a render stopped half-way leaves a folder the next render still owns.
 */
export function writeRender(dir: string, files: ReadonlyMap<string, string>, shownAs: string): string | undefined {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOTDIR") throw new UsageError(`--out ${shownAs}: is a file; render writes a folder of files`);
    if (code !== "ENOENT") throw e;
    entries = [];
  }
  let replaced: string | undefined;
  if (entries.length > 0) {
    const earlier = renderedFiles(dir);
    if (earlier === undefined) {
      throw new UsageError(
        `--out ${shownAs}: the folder holds files and no render's ${MANIFEST} (${listed(entries.map((d) => d.name))})\n` +
          "render replaces only what it wrote before: give an empty or new folder.",
      );
    }
    const foreign = entries.filter((d) => !(d.isFile() || d.isSymbolicLink()) || !earlier.files.has(d.name)).map((d) => d.name);
    if (foreign.length > 0) {
      throw new UsageError(
        `--out ${shownAs}: besides an earlier render of ${earlier.stack}, the folder holds ${listed(foreign)}\n` +
          "render replaces only what it wrote before: move those away, or give an empty or new folder.",
      );
    }
    for (const d of entries) fs.rmSync(path.join(dir, d.name));
    replaced = `replaced ${plural(entries.length, "file")} of an earlier render of ${earlier.stack}`;
  }
  fs.mkdirSync(dir, { recursive: true });
  const order = [...files.keys()].sort((a, b) => Number(b === MANIFEST) - Number(a === MANIFEST));
  for (const name of order) {
    // `wx`: every name is free by now, so nothing existing (a link planted meanwhile) is ever followed.
    fs.writeFileSync(path.join(dir, name), files.get(name)!, { mode: name.endsWith(".sh") ? 0o755 : 0o644, flag: "wx" });
  }
  return replaced;
}
