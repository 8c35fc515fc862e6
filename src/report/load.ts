import * as fs from "node:fs";
import * as path from "node:path";
import type { ImportedCell } from "../results/importIperf3";

/**
 * A cell as the report reads it: a lab cell, or an imported one whose payload may be unknown.
 * `sender` and the newer verdicts are optional so that files from before them still load.
 */
export type ReportCell = ImportedCell;

/** One input file's cells, with the factors that tell its variant apart from the others. */
export interface LoadedRun {
  /** The file, relative to the working directory, as the report names it. */
  readonly source: string;
  readonly stack: string | null;
  readonly variant: string;
  readonly os: string;
  readonly cells: readonly ReportCell[];
  /** Top-level `uso` of a stack output: true/false when the stack set it, null when left to the driver. */
  readonly uso: boolean | null;
}

export class ReportInputError extends Error {}

/** Neither the stack output nor the variant name says which OS the guest ran. */
export const UNKNOWN_OS = "unknown";

const CELL_NUMBER_OR_NULL = [
  "throughputBps", "senderBps", "jitterMs", "lostPackets", "packets", "lossPercent", "outOfOrder",
  "guestCpuPercent", "hostCpuPercent",
] as const;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Checks the fields the report reads, naming the file, the cell and the field on failure. */
const VERDICTS = ["yes", "no", "not-exercised", "unverified", "unknown"];
const SENDERS = ["plain", "gso", "uso"];

function checkCell(raw: unknown, where: string): ReportCell {
  if (!isObject(raw)) throw new ReportInputError(`${where}: a cell must be an object`);
  const need = (key: string, ok: (v: unknown) => boolean, what: string): void => {
    if (!ok(raw[key])) throw new ReportInputError(`${where}: field "${key}" must be ${what}, got ${JSON.stringify(raw[key])}`);
  };
  const isNum = (v: unknown): boolean => typeof v === "number" && Number.isFinite(v);
  need("id", (v) => typeof v === "string", "a string");
  need("variant", (v) => typeof v === "string", "a string");
  need("error", (v) => v === null || v === undefined || typeof v === "string", "a string or null");
  need("status", (v) => v === "ok" || v === "failed" || v === "invalid", '"ok", "failed" or "invalid"');
  need("sender", (v) => v === undefined || SENDERS.includes(v as string), `absent or one of ${SENDERS.join(", ")}`);
  need("payloadBytes", (v) => v === null || isNum(v), "a number, or null when unknown");
  need("mtu", isNum, "a number");
  need("bitrate", (v) => typeof v === "string", "a string");
  need("repetition", isNum, "a number");
  need("fragmented", (v) => typeof v === "boolean", "a boolean");
  need("stalled", (v) => typeof v === "boolean", "a boolean");
  for (const key of CELL_NUMBER_OR_NULL) need(key, (v) => v === null || v === undefined || isNum(v), "a number or null");
  need("evidence", isObject, "an object");
  const evidence = raw.evidence as Record<string, unknown>;
  if (typeof evidence.usoRequested !== "boolean") throw new ReportInputError(`${where}: evidence.usoRequested must be a boolean`);
  if (!VERDICTS.includes(evidence.usoEngaged as string)) {
    throw new ReportInputError(`${where}: evidence.usoEngaged must be one of ${VERDICTS.map((v) => `"${v}"`).join(", ")}`);
  }
  return raw as unknown as ReportCell;
}

function checkCells(raw: unknown, where: string): ReportCell[] {
  if (!Array.isArray(raw)) throw new ReportInputError(`${where}: "cells" must be an array of cell results`);
  return raw.map((c, i) => checkCell(c, `${where} cell ${i}${isObject(c) && typeof c.id === "string" ? ` (${c.id})` : ""}`));
}

function osFromVariant(variant: string): string | null {
  const m = /(^|-)(windows|linux)(-|$)/.exec(variant);
  return m ? m[2] : null;
}

/**
 * A stack output (`pulumi stack output --json`: an object with `cells`, extra keys ignored) or an
 * `import-iperf3` result (an array of cells). An array may hold several variants: one run each.
 */
export function parseInput(text: string, source: string): LoadedRun[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ReportInputError(`${source}: not JSON (${(e as Error).message})`);
  }
  if (Array.isArray(doc)) {
    const cells = checkCells(doc, source);
    const variants = [...new Set(cells.map((c) => c.variant))];
    return variants.map((variant) => ({
      source,
      stack: null,
      variant,
      os: osFromVariant(variant) ?? UNKNOWN_OS,
      uso: null,
      cells: cells.filter((c) => c.variant === variant),
    }));
  }
  if (!isObject(doc) || !("cells" in doc)) {
    throw new ReportInputError(`${source}: expected a stack output with "cells" or an array of cell results`);
  }
  const cells = checkCells(doc.cells, source);
  const variant = typeof doc.variant === "string" ? doc.variant : cells[0]?.variant;
  if (variant === undefined) throw new ReportInputError(`${source}: no "variant" and no cells to take it from`);
  const os = typeof doc.os === "string" ? doc.os : osFromVariant(variant) ?? UNKNOWN_OS;
  return [{
    source,
    stack: typeof doc.stack === "string" ? doc.stack : null,
    variant,
    os,
    uso: typeof doc.uso === "boolean" ? doc.uso : null,
    cells,
  }];
}

/** Files and folders (their *.json files, sorted, recursively) to runs, in the order given. */
export function loadInputs(inputs: readonly string[], cwd = process.cwd()): LoadedRun[] {
  if (inputs.length === 0) throw new ReportInputError("no inputs: give stack output files, import-iperf3 results or folders of them");
  const files: string[] = [];
  const walk = (p: string): void => {
    const st = fs.statSync(p, { throwIfNoEntry: false });
    if (st === undefined) throw new ReportInputError(`${p}: no such file or folder`);
    if (st.isDirectory()) {
      // Dot files are tool state (the sweep's), not results.
      for (const name of fs.readdirSync(p).sort()) {
        if (name.startsWith(".")) continue;
        const child = path.join(p, name);
        if (fs.statSync(child).isDirectory() || name.endsWith(".json")) walk(child);
      }
    } else {
      files.push(p);
    }
  };
  for (const input of inputs) walk(path.resolve(cwd, input));
  return files.flatMap((f) => parseInput(fs.readFileSync(f, "utf8"), path.relative(cwd, f) || path.basename(f)));
}
