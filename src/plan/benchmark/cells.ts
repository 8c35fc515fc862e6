import { IPV4_UDP_HEADER_BYTES } from "../../config/features";
import type { LabConfig } from "../../config/model";

/** One iperf3 run of the matrix: a payload size at a bitrate, repeated. */
export interface Cell {
  /** e.g. `udp-8972B-mtu9000-uso-on-r2`; the bitrate appears only when the matrix lists several. */
  readonly id: string;
  readonly variant: string;
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

export function cellId(variant: string, payloadBytes: number, bitrate: string | null, repetition: number): string {
  const rate = bitrate === null ? "" : `-b${bitrate}`;
  return `udp-${payloadBytes}B${rate}-${variant}-r${repetition}`;
}

/** mulberry32: a tiny seeded generator, so a shuffled order is the same on every run of a seed. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  const random = seededRandom(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * The matrix of a stack: payloads × bitrates × repetitions, in listed order (repetitions of
 * one payload after another) or shuffled with `matrix.shuffleSeed`, so slow drift on the
 * host does not line up with one payload size.
 */
export function planCells(cfg: LabConfig): Cell[] {
  const m = cfg.matrix;
  const mtu = cfg.offloads.mtu;
  const several = m.bitrates.length > 1;
  const cells: Cell[] = [];
  for (const payloadBytes of m.payloads) {
    for (const bitrate of m.bitrates) {
      for (let repetition = 1; repetition <= m.repetitions; repetition++) {
        cells.push({
          id: cellId(cfg.variant, payloadBytes, several ? bitrate : null, repetition),
          variant: cfg.variant,
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
  return m.order === "shuffled" ? shuffled(cells, m.shuffleSeed) : cells;
}
