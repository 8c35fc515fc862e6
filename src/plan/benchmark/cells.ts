import { IPV4_UDP_HEADER_BYTES } from "../../config/features";
import type { SenderKind } from "../../config/features";
import type { LabConfig } from "../../config/model";
import { type Arm, type Cell, cellId } from "../../results/cell";
import { seededRandom, shuffleWith } from "../seededShuffle";

/**
 * The senders a payload is measured with: `plain` for every payload; a segmenting sender
 * (`gso`, `uso`) only while one datagram fits one frame, payload <= MTU − 28. Above it the
 * datagram is IP-fragmented and there is nothing to segment (iperf3 --gsro then sends
 * nothing at all), so such a cell is not planned rather than run as a cell of zeros.
 */
export function sendersFor(payloadBytes: number, cfg: LabConfig): SenderKind[] {
  return cfg.matrix.senders.filter((s) => s === "plain" || !fragments(payloadBytes, cfg));
}

/** A sender of matrix.senders that a payload is not measured with, and why. */
export interface SkippedSender {
  readonly payloadBytes: number;
  readonly sender: SenderKind;
  readonly reason: string;
}

/** Each segmenting sender left out for a payload, for render and the outputs to say so. */
export function skippedSenders(cfg: LabConfig): SkippedSender[] {
  return cfg.matrix.payloads.flatMap((payloadBytes) => cfg.matrix.senders
    .filter((s) => !sendersFor(payloadBytes, cfg).includes(s))
    .map((sender) => ({ payloadBytes, sender, reason: `above MTU − 28 = ${cfg.offloads.mtu - IPV4_UDP_HEADER_BYTES}: IP-fragmented, nothing to segment` })));
}

const fragments = (payloadBytes: number, cfg: LabConfig): boolean => payloadBytes > cfg.offloads.mtu - IPV4_UDP_HEADER_BYTES;

/** One row of the matrix: a payload from one sender at one bitrate, and its repetitions. */
export interface MatrixRow {
  readonly payloadBytes: number;
  readonly sender: SenderKind;
  readonly bitrate: string;
  /** The repetitions this benchmark runs of the row, numbered from `firstRepetition`. */
  readonly repetitions: number;
  readonly firstRepetition: number;
}

/**
 * The rows the benchmark runs: payloads × senders (sendersFor) × bitrates, each
 * `matrix.repetitions` times; or, in a round of `sweep --budget` (`benchmark.round`), only the
 * round's rows, each with its own repetitions, numbered on from the round's first.
 */
export function matrixRows(cfg: LabConfig): MatrixRow[] {
  const m = cfg.matrix;
  const round = cfg.benchmark.round;
  if (round !== undefined) {
    return round.rows.map((r) => ({ payloadBytes: r.payload, sender: r.sender, bitrate: r.bitrate, repetitions: r.repetitions, firstRepetition: round.firstRepetition }));
  }
  return m.payloads.flatMap((payloadBytes) => sendersFor(payloadBytes, cfg).flatMap((sender) =>
    m.bitrates.map((bitrate) => ({ payloadBytes, sender, bitrate, repetitions: m.repetitions, firstRepetition: 1 }))));
}

/**
 * The matrix of a stack as cells. Per-variant stacks: each row's repetitions one after another,
 * row by row (listed), or shuffled with `matrix.shuffleSeed`, so slow drift on the host does not
 * line up with one payload size. In-lab arms (`matrix.usoArms`): each repetition of a row is a
 * pair, its off cell right before its on cell (same boot, same moment), and the pairs go round
 * the rows (every row's first pair, then every row's second …), so each row's pairs spread over
 * the whole run; shuffled, the pairs are shuffled and each stays off-then-on.
 */
export function planCells(cfg: LabConfig): Cell[] {
  const m = cfg.matrix;
  const mtu = cfg.offloads.mtu;
  const several = m.bitrates.length > 1;
  const rows = matrixRows(cfg);
  const cell = (row: MatrixRow, repetition: number, arm?: Arm): Cell => ({
    id: cellId(cfg.variant, row.payloadBytes, row.sender, several ? row.bitrate : null, repetition, arm),
    variant: cfg.variant,
    sender: row.sender,
    payloadBytes: row.payloadBytes,
    bitrate: row.bitrate,
    repetition,
    durationSeconds: m.durationSeconds,
    mtu,
    fragmented: fragments(row.payloadBytes, cfg),
    usoRequested: arm === undefined ? cfg.offloads.uso.ipv4 === true : arm === "on",
    ...(arm === undefined ? {} : { arm, pair: repetition }),
  });
  if (!m.usoArms) {
    const cells = rows.flatMap((row) => Array.from({ length: row.repetitions }, (_, i) => cell(row, row.firstRepetition + i)));
    return m.order === "shuffled" ? shuffleWith(cells, seededRandom(m.shuffleSeed)) : cells;
  }
  const pairs: Cell[][] = [];
  const most = Math.max(...rows.map((r) => r.repetitions));
  for (let i = 0; i < most; i++) {
    for (const row of rows) {
      if (i < row.repetitions) pairs.push([cell(row, row.firstRepetition + i, "off"), cell(row, row.firstRepetition + i, "on")]);
    }
  }
  return (m.order === "shuffled" ? shuffleWith(pairs, seededRandom(m.shuffleSeed)) : pairs).flat();
}
