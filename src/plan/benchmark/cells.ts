import { IPV4_UDP_HEADER_BYTES } from "../../config/features";
import type { SenderKind } from "../../config/features";
import type { LabConfig } from "../../config/model";
import { type Cell, cellId } from "../../results/cell";
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

/**
 * The matrix of a stack: payloads × senders (sendersFor) × bitrates × repetitions, in listed order
 * (repetitions of one payload and sender after another) or shuffled with `matrix.shuffleSeed`, so slow drift on the
 * host does not line up with one payload size.
 */
export function planCells(cfg: LabConfig): Cell[] {
  const m = cfg.matrix;
  const mtu = cfg.offloads.mtu;
  const several = m.bitrates.length > 1;
  const cells: Cell[] = [];
  for (const payloadBytes of m.payloads) {
    for (const sender of sendersFor(payloadBytes, cfg)) {
      for (const bitrate of m.bitrates) {
        for (let repetition = 1; repetition <= m.repetitions; repetition++) {
          cells.push({
            id: cellId(cfg.variant, payloadBytes, sender, several ? bitrate : null, repetition),
            variant: cfg.variant,
            sender,
            payloadBytes,
            bitrate,
            repetition,
            durationSeconds: m.durationSeconds,
            mtu,
            fragmented: fragments(payloadBytes, cfg),
            usoRequested: cfg.offloads.uso.ipv4 === true,
          });
        }
      }
    }
  }
  return m.order === "shuffled" ? shuffleWith(cells, seededRandom(m.shuffleSeed)) : cells;
}
