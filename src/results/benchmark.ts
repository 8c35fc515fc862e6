import type { LabConfig } from "../config/model";
import { type Cell, planCells } from "../plan/benchmark/cells";
import { COUNTERS_MARKER } from "../plan/benchmark/guestCell";
import type { CellResult } from "./cell";
import { cellResult } from "./benchmarkCell";
import { type TapCounts, cellEvidence, counterDelta } from "./evidence";
import { type Iperf3Run, parseIperf3 } from "./iperf3";
import { usoRun } from "./usoSender";

/** One line of the benchmark step's stdout: what the host saw of one cell. */
export interface BenchmarkLine {
  readonly id: string;
  readonly exitCode: number;
  /** base64 of the guest script's stdout: the iperf3 JSON, maybe a counters line after it. */
  readonly stdout: string;
  /** base64 of the last bytes of the guest script's stderr. */
  readonly stderr: string;
  /** The tap's counts for the cell, or why there are none. */
  readonly capture: { readonly tool: string; readonly counts?: TapCounts; readonly note?: string };
  /** A `uso` cell's host receiver counts (src/plan/benchmark/usoReceiver.ts). */
  readonly receiver?: unknown;
}

/** What the guest cell script printed, split into iperf3's JSON and NetKVM counters. */
export interface GuestCellOutput {
  readonly iperf3: string;
  readonly udpOffloadBefore: number | null;
  readonly udpOffloadAfter: number | null;
}

export function splitGuestOutput(stdout: string): GuestCellOutput {
  const lines = stdout.replace(/\r\n/g, "\n").trimEnd().split("\n");
  const last = lines[lines.length - 1] ?? "";
  if (last.includes(COUNTERS_MARKER)) {
    try {
      const c = (JSON.parse(last) as Record<string, Record<string, unknown>>)[COUNTERS_MARKER] ?? {};
      const n = (v: unknown) => (typeof v === "number" ? v : null);
      return { iperf3: lines.slice(0, -1).join("\n"), udpOffloadBefore: n(c.udpOffloadBefore), udpOffloadAfter: n(c.udpOffloadAfter) };
    } catch {
      // Not our counters line after all: leave everything to the iperf3 parser.
    }
  }
  return { iperf3: stdout, udpOffloadBefore: null, udpOffloadAfter: null };
}

function decode(b64: string): string {
  return Buffer.from(b64, "base64").toString("utf8");
}

function parseLine(text: string, lineNo: number): BenchmarkLine {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`benchmark output line ${lineNo} is not JSON: ${(e as Error).message}`);
  }
  const l = v as Partial<BenchmarkLine>;
  if (typeof l.id !== "string" || typeof l.exitCode !== "number" || typeof l.stdout !== "string" || typeof l.stderr !== "string") {
    throw new Error(`benchmark output line ${lineNo} lacks id, exitCode, stdout or stderr`);
  }
  return { id: l.id, exitCode: l.exitCode, stdout: l.stdout, stderr: l.stderr, capture: l.capture ?? { tool: "" }, receiver: l.receiver };
}

/** The iperf3 run of a line; a dead transport or a killed client is said as such. */
function runOf(line: BenchmarkLine, iperf3Text: string): Iperf3Run {
  const run = parseIperf3(iperf3Text);
  if (run.error === null || line.exitCode === 0) return run;
  // timeout(1) exits 124, or 137 when its KILL was needed.
  const killed = line.exitCode === 124 || line.exitCode === 137;
  // iperf3's own JSON error says more than any exit code.
  if (!killed && iperf3Text.trim().startsWith("{")) return run;
  const why = killed ? "the cell ran past its deadline and was killed" : `guest exit code ${line.exitCode}`;
  const stderr = decode(line.stderr).trim().split("\n").slice(-3).join(" | ");
  return { ...run, error: `${why}${stderr ? `: ${stderr}` : ""} (${run.error})` };
}

function resultOf(cell: Cell, line: BenchmarkLine | undefined): CellResult {
  if (line === undefined) {
    const run = parseIperf3("");
    return cellResult(cell, { ...run, error: "no output for this cell: the benchmark stopped before reporting it" }, cellEvidence(cell.sender, cell.usoRequested, undefined, null));
  }
  const guest = splitGuestOutput(decode(line.stdout));
  const evidence = cellEvidence(cell.sender, cell.usoRequested, line.capture.counts, counterDelta(guest.udpOffloadBefore, guest.udpOffloadAfter));
  const run = cell.sender === "uso" ? usoRun(guest.iperf3, line.receiver, cell.durationSeconds) : runOf(line, guest.iperf3);
  return cellResult(cell, run, evidence);
}

/**
 * The benchmark step's whole stdout → one result per planned cell, in plan order. A cell
 * with no line (the step was cut short) is failed, not dropped; a line for a cell that was
 * not planned means the output belongs to another config, and is an error.
 */
export function parseBenchmarkOutput(stdout: string, cfgOrCells: LabConfig | readonly Cell[]): CellResult[] {
  const cells = Array.isArray(cfgOrCells) ? (cfgOrCells as readonly Cell[]) : planCells(cfgOrCells as LabConfig);
  const planned = new Set(cells.map((c) => c.id));
  const lines = new Map<string, BenchmarkLine>();
  stdout.split("\n").forEach((text, i) => {
    if (text.trim() === "") return;
    const line = parseLine(text, i + 1);
    if (!planned.has(line.id)) throw new Error(`benchmark output has a cell ${line.id} that the matrix does not plan`);
    lines.set(line.id, line);
  });
  return cells.map((c) => resultOf(c, lines.get(c.id)));
}

/** The guest's iperf3 version (`start.version`) from the first cell that reports one. */
export function guestIperf3Version(stdout: string): string | null {
  for (const text of stdout.split("\n")) {
    if (text.trim() === "") continue;
    try {
      const version = parseIperf3(splitGuestOutput(decode(parseLine(text, 0).stdout)).iperf3).version;
      if (version !== null) return version;
    } catch {
      // A malformed line has no version to offer; parseBenchmarkOutput reports it.
    }
  }
  return null;
}
