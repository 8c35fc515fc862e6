import * as fs from "node:fs";
import * as path from "node:path";

/** The project root: every script file is named relative to it in what the lab renders. */
const ROOT = path.resolve(__dirname, "..", "..", "..");

const cache = new Map<string, string>();

/**
 * A script kept as a real file beside the TypeScript that plans it (a step's `.sh`, `.ps1` or
 * `.py`): static text that linters read as it is, with no value of any stack in it.
 */
export interface ScriptFile {
  /** Relative to the project root, e.g. `src/plan/network/create-adopt.sh`. */
  readonly source: string;
  readonly text: string;
}

/** Reads `name` from the folder `dir` (a module's `__dirname`), once per process. */
export function scriptFile(dir: string, name: string): ScriptFile {
  const file = path.join(dir, name);
  let text = cache.get(file);
  if (text === undefined) {
    text = fs.readFileSync(file, "utf8");
    cache.set(file, text);
  }
  return { source: path.relative(ROOT, file).split(path.sep).join("/"), text };
}

/** The file's text without its first line when that is a `#!` or a shellcheck directive for linting it alone. */
export function body(file: ScriptFile): string {
  return file.text
    .split("\n")
    .filter((line, i) => !(i === 0 && line.startsWith("#!")) && !/^# shellcheck shell=/.test(line))
    .join("\n")
    .trim();
}
