import { z } from "zod";
import { cellResult } from "../../results/benchmarkCell";
import type { Cell, CellResult, ReceiverCounters } from "../../results/cell";
import { type CaptureCounts, type TapCounters, cellEvidence, counterDelta } from "../../results/evidence";
import { type Iperf3Run, parseIperf3 } from "../../results/iperf3";
import type { SkippedSender } from "./cells";
import { usoReceiverCounts, usoRun } from "./usoSender";

/**
 * The key of the line a Windows cell prints after its sender's output: NetKVM's UdpOffload
 * counter before and after (windows-cell-lib.ps1 is given it as a parameter).
 */
export const COUNTERS_MARKER = "offloadLabCounters";

const captureCounts = z.object({
  largeFrames: z.number().int(),
  largestFrame: z.number().int(),
  largeFrameDatagrams: z.number().int(),
  capped: z.boolean().optional(),
}) satisfies z.ZodType<CaptureCounts>;

const fromBase64 = (b64: string) => Buffer.from(b64, "base64").toString("utf8");
const delta = z.number().int().nullable();

/**
 * What counters-lib.sh counted over the cell: the tap's receive deltas (null when the tap's
 * counters could not be read), this namespace's UDP error deltas, and the receive buffer the
 * server's socket got (ss skmem rb; null when no reading came in time).
 */
const counters = z.object({
  tap: z.object({ frames: z.number().int(), bytes: z.number().int() }).nullable() satisfies z.ZodType<TapCounters | null>,
  udp: z.object({ inErrors: delta, rcvbufErrors: delta }),
  rcvbuf: z.number().int().nullable(),
});

/** In-lab arms: the switch to the cell's arm (uso-switch.sh/.ps1 through the transport) and its read-back. */
const armSwitch = z.object({
  arm: z.enum(["off", "on"]),
  exitCode: z.number().int(),
  /** The guest's read-back JSON (base64 on the wire). */
  stdout: z.base64().transform(fromBase64),
  /** The last bytes of its stderr (base64 on the wire): the read-back message of a switch that did not take. */
  stderr: z.base64().transform(fromBase64),
});

/** One line of the benchmark step's stdout (benchmark.sh's print_cell): what the host saw of one cell. */
const cellLine = z.object({
  id: z.string(),
  /** The transport's exit code for the guest script; 124 or 137 when the host's deadline ended it. */
  exitCode: z.number().int(),
  /** The guest script's stdout (base64 on the wire): the sender's JSON, maybe a counters line after it. */
  stdout: z.base64().transform(fromBase64),
  /** The last bytes of the guest script's stderr (base64 on the wire). */
  stderr: z.base64().transform(fromBase64),
  /** The cell's wall time on the host, its switch included; absent in lines recorded before it was taken. */
  wallSeconds: z.number().nonnegative().optional(),
  /** In-lab arms only. */
  switch: armSwitch.optional(),
  /** The counters over the cell (counters-lib.sh); absent when the switch failed and the cell did not run. */
  counters: counters.optional(),
  /** The capture's counts (capture-lib.sh), or why there are none; absent when capture.frames is off. */
  capture: z.object({ tool: z.string(), counts: captureCounts.optional(), note: z.string().optional() }).optional(),
  /** A `uso` cell's host receiver counts (uso-receiver.py); absent when it counted nothing. */
  receiver: usoReceiverCounts.optional(),
});
export type CellLine = z.output<typeof cellLine>;

/** What the benchmark step reports: one result per planned cell, and the guest's iperf3. */
export interface BenchmarkOutput {
  readonly cells: CellResult[];
  /** `start.version` of the first cell whose iperf3 said it, e.g. `iperf 3.22`; null when none did. */
  readonly guestIperf3: string | null;
  /** Senders not planned for a payload (cells.ts sendersFor): a segmenting sender above MTU − 28. */
  readonly skipped?: readonly SkippedSender[];
}

/** What the guest cell script printed, split into the sender's output and NetKVM counters. */
export interface GuestCellOutput {
  readonly iperf3: string;
  readonly udpOffloadBefore: number | null;
  readonly udpOffloadAfter: number | null;
}

/** A reading that is not a number (the driver lacks the counter) is no reading. */
const reading = z.number().nullable().catch(null);
const countersLine = z.object({
  [COUNTERS_MARKER]: z.object({ udpOffloadBefore: reading, udpOffloadAfter: reading }),
});

export function splitGuestOutput(stdout: string): GuestCellOutput {
  const lines = stdout.replace(/\r\n/g, "\n").trimEnd().split("\n");
  const last = lines[lines.length - 1] ?? "";
  if (last.includes(COUNTERS_MARKER)) {
    try {
      const c = countersLine.parse(JSON.parse(last))[COUNTERS_MARKER];
      return { iperf3: lines.slice(0, -1).join("\n"), udpOffloadBefore: c.udpOffloadBefore, udpOffloadAfter: c.udpOffloadAfter };
    } catch {
      // Not our counters line after all: leave everything to the iperf3 parser.
    }
  }
  return { iperf3: stdout, udpOffloadBefore: null, udpOffloadAfter: null };
}

function parseLine(text: string, lineNo: number): CellLine {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`benchmark output line ${lineNo} is not JSON: ${(e as Error).message}`);
  }
  const parsed = cellLine.safeParse(doc);
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new Error(`benchmark output line ${lineNo} lacks what a cell's line has (${where}): ${JSON.stringify(text.slice(0, 200))}`);
  }
  return parsed.data;
}

/** The iperf3 run of a line; a dead transport or a killed client is said as such. */
function runOf(line: CellLine, iperf3Text: string): Iperf3Run {
  const run = parseIperf3(iperf3Text);
  if (run.error === null || line.exitCode === 0) return run;
  // timeout(1) exits 124, or 137 when its KILL was needed.
  const killed = line.exitCode === 124 || line.exitCode === 137;
  // iperf3's own JSON error says more than any exit code.
  if (!killed && iperf3Text.trim().startsWith("{")) return run;
  const why = killed ? "the cell ran past its deadline and was killed" : `guest exit code ${line.exitCode}`;
  const stderr = line.stderr.trim().split("\n").slice(-3).join(" | ");
  return { ...run, error: `${why}${stderr ? `: ${stderr}` : ""} (${run.error})` };
}

/** The UDP counters of the server's namespace in the report's terms (results/cell.ts ReceiverCounters). */
export function receiverCounters(c: z.output<typeof counters>): ReceiverCounters {
  return { socketDrops: c.udp.rcvbufErrors, inErrors: c.udp.inErrors, socketBufferBytes: c.rcvbuf };
}

/** What a switch that did not take says: its exit code, its message and its read-back. */
function switchError(s: z.output<typeof armSwitch>): string {
  const why = s.exitCode === 124 || s.exitCode === 137 ? "ran past its deadline and was killed" : `exited ${s.exitCode}`;
  const message = s.stderr.trim().split("\n").slice(-2).join(" | ");
  const readBack = s.stdout.trim();
  return `the switch to USO ${s.arm} ${why}${message ? `: ${message}` : ""}; read back: ${readBack || "nothing"}`;
}

function resultOf(cell: Cell, line: CellLine | undefined): CellResult {
  const unseen = cellEvidence(cell.sender, cell.usoRequested, cell.mtu, { udpOffloadDelta: null });
  if (line === undefined) {
    const run = parseIperf3("");
    return cellResult(cell, { ...run, error: "no output for this cell: the benchmark stopped before reporting it" }, unseen);
  }
  const extra = {
    ...(line.switch === undefined ? {} : { armReadBack: line.switch.stdout.trim() }),
    ...(line.counters === undefined ? {} : { receiver: receiverCounters(line.counters) }),
    ...(line.wallSeconds === undefined ? {} : { wallSeconds: line.wallSeconds }),
  };
  if (line.switch !== undefined && line.switch.exitCode !== 0) {
    return { ...cellResult(cell, { ...parseIperf3(""), error: switchError(line.switch) }, unseen), ...extra };
  }
  const guest = splitGuestOutput(line.stdout);
  const evidence = cellEvidence(cell.sender, cell.usoRequested, cell.mtu, {
    ...(line.counters?.tap == null ? {} : { tap: line.counters.tap }),
    ...(line.capture?.counts === undefined ? {} : { capture: line.capture.counts }),
    udpOffloadDelta: counterDelta(guest.udpOffloadBefore, guest.udpOffloadAfter),
  });
  const run = cell.sender === "uso" ? usoRun(guest.iperf3, line.receiver, cell.durationSeconds) : runOf(line, guest.iperf3);
  return { ...cellResult(cell, run, evidence), ...extra };
}

/**
 * The benchmark step's whole stdout → one result per planned cell, in plan order, and the
 * guest's iperf3 version. A cell with no line (the step was cut short) is failed, not dropped;
 * a line for a cell that was not planned means the output belongs to another config, and is
 * an error, as is a line that is not a cell's line.
 */
export function parseBenchmark(stdout: string, cells: readonly Cell[]): BenchmarkOutput {
  const planned = new Set(cells.map((c) => c.id));
  const lines = new Map<string, CellLine>();
  let guestIperf3: string | null = null;
  stdout.split("\n").forEach((text, i) => {
    if (text.trim() === "") return;
    const line = parseLine(text, i + 1);
    if (!planned.has(line.id)) throw new Error(`benchmark output has a cell ${line.id} that the matrix does not plan`);
    lines.set(line.id, line);
    guestIperf3 ??= parseIperf3(splitGuestOutput(line.stdout).iperf3).version;
  });
  return { cells: cells.map((c) => resultOf(c, lines.get(c.id))), guestIperf3 };
}
