import { createHash } from "node:crypto";
import { cellId, type CellEvidence, type CellResult, type Sender } from "./cell";
import { cellResult } from "./benchmarkCell";
import type { GuestOs, VariantFactors } from "./factors";
import { bitrateFlag, parseIperf3 } from "./iperf3";
import { implausibleNumbers, implausiblePayload } from "./plausible";
import { IPV4_UDP_HEADER_BYTES } from "../config/features";

export interface ImportOptions {
  /** The UDP payload of runs whose file does not say (iperf3 failed before the test began). */
  readonly payload?: number;
  /** The path MTU of the manual runs; iperf3's JSON does not record it. Unset: 1500, and a payload above 1472 B is refused (`mtuMissing`). */
  readonly mtu?: number;
  /** e.g. `mtu9000-uso-on-manual`; unset: built from the factors (`variantName`). */
  readonly variant?: string;
  /** The USO arm the runs were made in; unset: no arm, so no USO verdict row. */
  readonly uso?: boolean;
  readonly os?: GuestOs;
}

/** The content digest of one file that became a cell: the same run imported twice is counted once. */
export interface CellSource {
  readonly file: string;
  readonly sha256: string;
}

/**
 * An imported cell. A run refused by the server or by the network never reached
 * `start.test_start`, so its payload can be unknown: the one field a lab cell always has.
 * `source` names the iperf3 file it came from, by content digest.
 */
export type ImportedCell = Omit<CellResult, "payloadBytes"> & { readonly payloadBytes: number | null; readonly source?: CellSource };

/** What `import-iperf3` writes: the factors as data beside the cells, as a stack output has them. */
export interface ImportResult {
  readonly variant: string;
  readonly factors: VariantFactors;
  readonly cells: readonly ImportedCell[];
}

/** Why a file is not imported at all: it measured something else than a guest → host UDP run, or it is a duplicate. */
export interface Refusal {
  readonly file: string;
  readonly reason: string;
}

export interface ImportOutcome {
  /** In the order of the files, each with the file it came from. */
  readonly imported: Array<{ readonly file: string; readonly cell: ImportedCell }>;
  readonly refused: Refusal[];
  /** Files whose payload is above 1500 − 28 while no MTU was given: the caller must ask for `--mtu`. */
  readonly mtuMissing: Array<{ readonly file: string; readonly payloadBytes: number }>;
  readonly variant: string;
  readonly factors: VariantFactors;
}

export const DEFAULT_MTU = 1500;

/**
 * The variant name of an import that was given none: `imported`, then the factors it was given
 * (`imported-linux-mtu9000-uso-on`), so that imports made in different conditions never share a
 * name by default.
 */
export function variantName(opts: Pick<ImportOptions, "os" | "mtu" | "uso">): string {
  return ["imported", opts.os ?? null, `mtu${opts.mtu ?? DEFAULT_MTU}`, opts.uso === undefined ? null : `uso-${opts.uso ? "on" : "off"}`]
    .filter((p) => p !== null)
    .join("-");
}

export function importFactors(opts: Pick<ImportOptions, "os" | "mtu" | "uso">): VariantFactors {
  return { os: opts.os ?? null, mtu: opts.mtu ?? DEFAULT_MTU, uso: opts.uso ?? null, arms: false, host: null };
}

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
function manualEvidence(usoRequested: boolean, sender: Sender): CellEvidence {
  return { usoRequested, udpOffloadDelta: null, usoEngaged: sender === "plain" ? "not-exercised" : "unverified" };
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

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * Numbers JSON.parse read as ±Infinity (beyond ±1.8e308): iperf3 never writes them, and the
 * parser would read them as "not measured", so they are named here, with where they sit.
 */
function nonFinite(v: unknown, where: string, out: string[]): string[] {
  if (typeof v === "number" && !Number.isFinite(v)) out.push(`${where} is beyond the largest number a double holds`);
  else if (Array.isArray(v)) v.forEach((x, i) => nonFinite(x, `${where}[${i}]`, out));
  else if (v !== null && typeof v === "object") for (const [k, x] of Object.entries(v)) nonFinite(x, where === "" ? k : `${where}.${k}`, out);
  return out;
}

/** The measurement fields of a cell, nulled when the file's numbers cannot have been measured. */
const MEASURED = [
  "throughputBps", "senderBps", "jitterMs", "lostPackets", "packets", "lossPercent", "outOfOrder", "guestCpuPercent", "hostCpuPercent",
] as const;

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
  const payloadBytes = run.payloadBytes ?? opts.payload ?? null;
  // A payload that is not a UDP payload names no cell at all.
  const badPayload = implausiblePayload(payloadBytes);
  if (badPayload !== null) return { file, reason: `impossible numbers: ${badPayload}` };
  // iperf3 ≥ 3.21 writes `test_start.gso: 1` under --gsro.
  const sender: Sender = run.gso ? "gso" : "plain";
  const mtu = opts.mtu ?? DEFAULT_MTU;
  const variant = opts.variant ?? variantName(opts);
  const repetition = repetitions.next(sender, payloadBytes);
  const evidence = manualEvidence(opts.uso === true, sender);
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
  const cell: ImportedCell = { ...cellResult(identity, run, evidence), payloadBytes, sender, source: { file, sha256: sha256(text) } };
  const impossible = [...nonFinite(read.doc, "", []), ...implausibleNumbers(cell)];
  if (impossible.length === 0) return cell;
  // The run happened, so it stays visible, but as no measurement: its numbers are not kept.
  const cleared = Object.fromEntries(MEASURED.map((k) => [k, null]));
  return { ...cell, ...cleared, status: "failed", error: `impossible numbers in the file: ${impossible.join("; ")}`, stalled: false };
}

export function isRefusal(r: ImportedCell | Refusal): r is Refusal {
  return "reason" in r;
}

/**
 * `offload-lab import-iperf3 FILE...`: each (file name, text) becomes a cell or a refusal, in
 * order. A file whose content was already read (the same path twice, or a copy) is refused,
 * naming both: a run is counted once.
 */
export function importIperf3(files: ReadonlyArray<{ file: string; text: string }>, opts: ImportOptions): ImportOutcome {
  const repetitions = new RepetitionCounter();
  const outcome: ImportOutcome = {
    imported: [], refused: [], mtuMissing: [], variant: opts.variant ?? variantName(opts), factors: importFactors(opts),
  };
  const seen = new Map<string, string>();
  for (const { file, text } of files) {
    const digest = sha256(text);
    const first = seen.get(digest);
    if (first !== undefined) {
      outcome.refused.push({ file, reason: first === file ? "given more than once: a run is counted once" : `the same content as ${first}: a run is counted once` });
      continue;
    }
    seen.set(digest, file);
    const r = importIperf3Text(file, text, opts, repetitions);
    if (isRefusal(r)) {
      outcome.refused.push(r);
      continue;
    }
    if (opts.mtu === undefined && r.payloadBytes !== null && r.payloadBytes > DEFAULT_MTU - IPV4_UDP_HEADER_BYTES) {
      outcome.mtuMissing.push({ file, payloadBytes: r.payloadBytes });
    }
    outcome.imported.push({ file, cell: r });
  }
  return outcome;
}
