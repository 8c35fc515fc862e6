import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { SENDERS } from "../config/features";
import type { ImportedCell } from "../results/importIperf3";

/**
 * A cell as the report reads it: a lab cell, or an imported one whose payload may be unknown.
 * `sender` and the newer verdicts are optional so that files from before them still load.
 */
export type ReportCell = ImportedCell;

/** One input file's cells (one variant), with the factors that tell it apart from the others. */
export interface LoadedRun {
  /** The file, relative to the working directory, as the report names it. */
  readonly source: string;
  readonly stack: string | null;
  readonly variant: string;
  /** `linux`, `windows`, or UNKNOWN_OS. */
  readonly os: string;
  readonly cells: readonly ReportCell[];
  /** The variant's USO: true/false when the stack or import set it, null when left to the driver or not told. */
  readonly uso: boolean | null;
  /**
   * A file from before factors were written that does not say the variant's USO (an import
   * array, a stack output without `factors` and `uso`): each cell's `evidence.usoRequested`
   * says its arm. False when the file states its factors: then a null `uso` means unknown.
   */
  readonly armFromCells: boolean;
  /** The KVM host every cell ran on (`factors.host`, else `host.identity.name`); null when unknown. */
  readonly host: string | null;
}

/** What was read, and what was read once although given more than once. */
export interface Loaded {
  readonly runs: LoadedRun[];
  /** One line per input counted once: the same file twice, a copy, a run imported twice. */
  readonly notes: string[];
}

export class ReportInputError extends Error {}

/** The stack output and the import say nothing of the guest's OS. */
export const UNKNOWN_OS = "unknown";

const CELL_NUMBER_OR_NULL = [
  "throughputBps", "senderBps", "jitterMs", "lostPackets", "packets", "lossPercent", "outOfOrder",
  "guestCpuPercent", "hostCpuPercent",
] as const;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const VERDICTS = ["yes", "no", "not-exercised", "unverified", "unknown"];
const isNum = (v: unknown): boolean => typeof v === "number" && Number.isFinite(v);
const numOrNull = (v: unknown): boolean => v === null || v === undefined || isNum(v);

/** Checks the fields the report reads, naming the file, the cell and the field on failure. */
function checkCell(raw: unknown, where: string): ReportCell {
  if (!isObject(raw)) throw new ReportInputError(`${where}: a cell must be an object`);
  const need = (key: string, ok: (v: unknown) => boolean, what: string): void => {
    if (!ok(raw[key])) throw new ReportInputError(`${where}: field "${key}" must be ${what}, got ${JSON.stringify(raw[key])}`);
  };
  need("id", (v) => typeof v === "string", "a string");
  need("variant", (v) => typeof v === "string", "a string");
  need("error", (v) => v === null || v === undefined || typeof v === "string", "a string or null");
  need("status", (v) => v === "ok" || v === "failed" || v === "invalid", '"ok", "failed" or "invalid"');
  need("sender", (v) => v === undefined || (SENDERS as readonly unknown[]).includes(v), `absent or one of ${SENDERS.join(", ")}`);
  need("payloadBytes", (v) => v === null || isNum(v), "a number, or null when unknown");
  need("mtu", isNum, "a number");
  need("bitrate", (v) => typeof v === "string", "a string");
  need("repetition", isNum, "a number");
  need("fragmented", (v) => typeof v === "boolean", "a boolean");
  need("stalled", (v) => typeof v === "boolean", "a boolean");
  for (const key of CELL_NUMBER_OR_NULL) need(key, numOrNull, "a number or null");
  need("arm", (v) => v === undefined || v === "off" || v === "on", 'absent, "off" or "on"');
  need("pair", (v) => v === undefined || (isNum(v) && Number.isInteger(v) && (v as number) >= 1), "absent or a whole number from 1");
  need("receiver", (v) => v === undefined || (isObject(v) && ["socketDrops", "inErrors", "socketBufferBytes"].every((k) => numOrNull(v[k]))),
    "absent or an object of socketDrops, inErrors and socketBufferBytes (numbers or null)");
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

/** iperf3 -J output has `start` and `intervals`/`end`, or an `error`: results of a run, not of the lab. */
function isRawIperf3(doc: unknown): boolean {
  return isObject(doc) && !("cells" in doc) && (isObject(doc.start) || typeof doc.error === "string") && ("intervals" in doc || "end" in doc || "error" in doc);
}

const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

/**
 * A stack output (`pulumi stack output --json`: an object with `cells`, extra keys ignored), an
 * `import-iperf3` result (an object with `variant`, `factors` and `cells`), or an import from
 * before factors were written (an array of cells: one run per variant found in it). The factors
 * come from `factors`, else the old top-level `os` and `uso`: never from a variant's name.
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
      source, stack: null, variant, os: UNKNOWN_OS, uso: null, armFromCells: true, host: null, cells: cells.filter((c) => c.variant === variant),
    }));
  }
  if (isRawIperf3(doc)) {
    throw new ReportInputError(
      `${source}: iperf3 -J output, not results: import it first, e.g.\n` +
        `offload-lab import-iperf3 ${source} --os linux --uso on --mtu 1500 --out imported.json`,
    );
  }
  if (!isObject(doc) || !("cells" in doc)) {
    throw new ReportInputError(`${source}: expected a stack output or an import-iperf3 result (an object with "cells")`);
  }
  const cells = checkCells(doc.cells, source);
  const variant = str(doc.variant) ?? cells[0]?.variant;
  if (variant === undefined) throw new ReportInputError(`${source}: no "variant" and no cells to take it from`);
  const factors = isObject(doc.factors) ? doc.factors : {};
  const identity = isObject(doc.host) && isObject(doc.host.identity) ? doc.host.identity : {};
  const uso = typeof factors.uso === "boolean" ? factors.uso : typeof doc.uso === "boolean" ? doc.uso : null;
  return [{
    source,
    stack: str(doc.stack),
    variant,
    os: str(factors.os) ?? str(doc.os) ?? UNKNOWN_OS,
    uso,
    armFromCells: uso === null && !isObject(doc.factors),
    host: str(factors.host) ?? str(identity.name),
    cells,
  }];
}

function digest(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * Files and folders (their *.json files, sorted, recursively) to runs, in the order given. Every
 * input is counted once: a file reached twice (a folder and a file in it), a copy of a file
 * already read (same content digest), and a cell imported from an iperf3 file that another
 * input's cell was already imported from; each is said in `notes`.
 */
export function loadInputs(inputs: readonly string[], cwd = process.cwd()): Loaded {
  if (inputs.length === 0) throw new ReportInputError("no inputs: give stack output files, import-iperf3 results or folders of them");
  const files: string[] = [];
  const walk = (p: string): void => {
    const st = fs.statSync(p, { throwIfNoEntry: false });
    if (st === undefined) throw new ReportInputError(`${path.relative(cwd, p) || p}: no such file or folder`);
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
  if (files.length === 0) {
    throw new ReportInputError(
      `no results in ${inputs.join(", ")}: no *.json file there\n` +
        "Give stack outputs (pulumi stack output --json > x.json), import-iperf3 results, or a sweep's output folder.",
    );
  }
  const rel = (f: string) => path.relative(cwd, f) || path.basename(f);
  const notes: string[] = [];
  const byPath = new Set<string>();
  const byDigest = new Map<string, string>();
  const importedFrom = new Map<string, string>();
  const runs: LoadedRun[] = [];
  for (const file of files) {
    const real = fs.realpathSync(file);
    if (byPath.has(real)) {
      notes.push(`${rel(file)}: given more than once (a folder and a file in it, or twice): read once`);
      continue;
    }
    byPath.add(real);
    const text = fs.readFileSync(file, "utf8");
    const d = digest(text);
    const first = byDigest.get(d);
    if (first !== undefined) {
      notes.push(`${rel(file)}: the same content as ${first}: counted once`);
      continue;
    }
    byDigest.set(d, rel(file));
    for (const run of parseInput(text, rel(file))) {
      const repeated = new Map<string, number>();
      const cells = run.cells.filter((c) => {
        const sha = c.source?.sha256;
        if (sha === undefined) return true;
        const other = importedFrom.get(sha);
        if (other !== undefined && other !== run.source) {
          repeated.set(other, (repeated.get(other) ?? 0) + 1);
          return false;
        }
        importedFrom.set(sha, run.source);
        return true;
      });
      for (const [other, n] of repeated) {
        notes.push(`${run.source}: ${n} ${n === 1 ? "cell" : "cells"} imported from the same iperf3 file as ${n === 1 ? "a cell" : "cells"} of ${other}: counted once`);
      }
      runs.push({ ...run, cells });
    }
  }
  return { runs, notes };
}
