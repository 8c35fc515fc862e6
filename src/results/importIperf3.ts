import { cellId, type CellEvidence, type CellResult, type Sender } from "./cell";
import { cellResult } from "./benchmarkCell";
import { bitrateFlag, parseIperf3 } from "./iperf3";
import { IPV4_UDP_HEADER_BYTES } from "../config/features";

export interface ImportOptions {
  /** The UDP payload of runs whose file does not say (iperf3 failed before the test began). */
  readonly payload?: number;
  /** The path MTU of the manual runs; iperf3's JSON does not record it. Default 1500. */
  readonly mtu?: number;
  /** e.g. `mtu9000-uso-on`; default `imported`. */
  readonly variant?: string;
}

/**
 * An imported cell. A run refused by the server or by the network never reached
 * `start.test_start`, so its payload can be unknown: the one field a lab cell always has.
 */
export type ImportedCell = Omit<CellResult, "payloadBytes"> & { readonly payloadBytes: number | null };

/** Why a file is not imported at all: it measured something else than a guest → host UDP run. */
export interface Refusal {
  readonly file: string;
  readonly reason: string;
}

export interface ImportOutcome {
  /** In the order of the files, each with the file it came from. */
  readonly imported: Array<{ readonly file: string; readonly cell: ImportedCell }>;
  readonly refused: Refusal[];
}

const DEFAULT_MTU = 1500;

type Json = Record<string, unknown>;

function obj(v: unknown): Json | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : undefined;
}

/** What the file says about the test it ran, before any number is read. */
interface TestKind {
  readonly protocol: string | null;
  readonly reverse: boolean;
}

/** An iperf3 -J document (finished or an error report), or the reason it is not one. */
function readDocument(text: string): { doc: Json; kind: TestKind } | { reason: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { reason: `not iperf3 -J output: not JSON (${(e as Error).message})` };
  }
  const doc = obj(parsed);
  if (doc === undefined || (obj(doc.start) === undefined && typeof doc.error !== "string")) {
    return { reason: "not iperf3 -J output: no `start` and no `error`" };
  }
  const testStart = obj(obj(doc.start)?.test_start);
  return {
    doc,
    kind: {
      protocol: typeof testStart?.protocol === "string" ? testStart.protocol : null,
      reverse: testStart?.reverse === 1,
    },
  };
}

/**
 * The lab measures UDP sent by the guest to the host. A TCP run, or a reverse run (the server
 * sent, this end received), measured something else: refused rather than filed as a UDP cell.
 */
function refusalOf(kind: TestKind): string | null {
  if (kind.protocol !== null && kind.protocol !== "UDP") return `a ${kind.protocol} test, not UDP (run iperf3 with -u)`;
  if (kind.reverse) return "a reverse run (-R): the server sent and this end received; the lab measures the client's sending (run without -R)";
  return null;
}

/** A manual run has no capture or counters beside it: a plain sender cannot show USO at all. */
function manualEvidence(variant: string, sender: Sender): CellEvidence {
  return {
    usoRequested: /(^|-)uso-on(-|$)/.test(variant),
    udpOffloadDelta: null,
    usoEngaged: sender === "plain" ? "not-exercised" : "unverified",
  };
}

/** Counts repetitions per payload and sender over the files of one import. */
export class RepetitionCounter {
  private readonly seen = new Map<string, number>();
  next(sender: Sender, payload: number | null): number {
    const key = `${sender}|${payload}`;
    const n = (this.seen.get(key) ?? 0) + 1;
    this.seen.set(key, n);
    return n;
  }
}

/** One file's text: a cell (ok, invalid or failed, with iperf3's error) or a refusal. */
export function importIperf3Text(
  file: string,
  text: string,
  opts: ImportOptions,
  repetitions: RepetitionCounter,
): ImportedCell | Refusal {
  const read = readDocument(text);
  if ("reason" in read) return { file, reason: read.reason };
  const refused = refusalOf(read.kind);
  if (refused !== null) return { file, reason: refused };

  const run = parseIperf3(text);
  // iperf3 ≥ 3.21 writes `test_start.gso: 1` under --gsro.
  const sender: Sender = run.gso ? "gso" : "plain";
  const payloadBytes = run.payloadBytes ?? opts.payload ?? null;
  const mtu = opts.mtu ?? DEFAULT_MTU;
  const variant = opts.variant ?? "imported";
  const repetition = repetitions.next(sender, payloadBytes);
  const evidence = manualEvidence(variant, sender);
  const identity = {
    // As in a matrix of one bitrate: the bitrate is in the cell, not in its id.
    id: cellId(variant, payloadBytes, sender, null, repetition),
    variant,
    sender,
    // cellResult copies it through untouched; null is restored below.
    payloadBytes: payloadBytes ?? 0,
    mtu,
    bitrate: run.targetBitrate === null ? "unknown" : bitrateFlag(run.targetBitrate),
    repetition,
    durationSeconds: run.durationSeconds ?? 0,
    fragmented: payloadBytes !== null && payloadBytes > mtu - IPV4_UDP_HEADER_BYTES,
    usoRequested: evidence.usoRequested,
  };
  const cell = cellResult(identity, run, evidence);
  return { ...cell, payloadBytes, sender };
}

export function isRefusal(r: ImportedCell | Refusal): r is Refusal {
  return "reason" in r;
}

/** `offload-lab import-iperf3 FILE...`: each (file name, text) becomes a cell or a refusal, in order. */
export function importIperf3(files: ReadonlyArray<{ file: string; text: string }>, opts: ImportOptions): ImportOutcome {
  const repetitions = new RepetitionCounter();
  const outcome: ImportOutcome = { imported: [], refused: [] };
  for (const { file, text } of files) {
    const r = importIperf3Text(file, text, opts, repetitions);
    if (isRefusal(r)) outcome.refused.push(r);
    else outcome.imported.push({ file, cell: r });
  }
  return outcome;
}
