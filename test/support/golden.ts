import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "vitest";

const GOLDEN_DIR = path.join(__dirname, "..", "golden");

/**
 * Compares `actual` with test/golden/<name>. With UPDATE_GOLDEN=1 it writes the file
 * instead; review the diff before committing it.
 */
export function expectGolden(name: string, actual: string): void {
  const file = path.join(GOLDEN_DIR, name);
  if (process.env.UPDATE_GOLDEN === "1") {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, actual);
    return;
  }
  if (!fs.existsSync(file)) throw new Error(`no golden file ${file}: run with UPDATE_GOLDEN=1 and review it`);
  expect(actual).toBe(fs.readFileSync(file, "utf8"));
}
