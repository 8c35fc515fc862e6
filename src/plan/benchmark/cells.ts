import { IPV4_UDP_HEADER_BYTES } from "../../config/features";
import type { LabConfig } from "../../config/model";
import { type Cell, cellId } from "../../results/cell";
import { seededRandom, shuffleWith } from "../seededShuffle";

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
