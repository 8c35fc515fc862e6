import { IPV4_UDP_HEADER_BYTES, type SenderKind } from "../../config/features";
import type { LabConfig } from "../../config/model";
import { seededRandom, shuffleWith } from "../seededShuffle";

/** One iperf3 run of the matrix: a payload size from one sender at a bitrate, repeated. */
export interface Cell {
  /** e.g. `udp-8972B-gso-mtu9000-uso-on-r2`; the bitrate appears only when the matrix lists several. */
  readonly id: string;
  readonly variant: string;
  readonly sender: SenderKind;
  readonly payloadBytes: number;
  readonly bitrate: string;
  /** 1-based. */
  readonly repetition: number;
  readonly durationSeconds: number;
  readonly mtu: number;
  /** payload > MTU − 28: every datagram leaves the guest as IP fragments. */
  readonly fragmented: boolean;
  readonly usoRequested: boolean;
}

export function cellId(variant: string, payloadBytes: number, sender: SenderKind, bitrate: string | null, repetition: number): string {
  const rate = bitrate === null ? "" : `-b${bitrate}`;
  return `udp-${payloadBytes}B-${sender}${rate}-${variant}-r${repetition}`;
}

/**
 * The matrix of a stack: payloads × senders × bitrates × repetitions, in listed order
 * (repetitions of one payload and sender after another) or shuffled with `matrix.shuffleSeed`, so slow drift on the
 * host does not line up with one payload size.
 */
export function planCells(cfg: LabConfig): Cell[] {
  const m = cfg.matrix;
  const mtu = cfg.offloads.mtu;
  const several = m.bitrates.length > 1;
  const cells: Cell[] = [];
  for (const payloadBytes of m.payloads) {
    for (const sender of m.senders) {
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
            fragmented: payloadBytes > mtu - IPV4_UDP_HEADER_BYTES,
            usoRequested: cfg.offloads.uso.ipv4 === true,
          });
        }
      }
    }
  }
  return m.order === "shuffled" ? shuffleWith(cells, seededRandom(m.shuffleSeed)) : cells;
}
