import type { CellRow } from "./compare";
import { excludesZero, fixed, plural, signed } from "./format";
import { mean, meanInterval, welchInterval, type WelchInterval } from "./stats";

/** Loss and out-of-order are shown in % with this many digits; significance is judged on them. */
export const LOSS_DIGITS = 2;

/** A per-arm mean with its 95 % interval (Student t; none below two values). */
export interface MeanWithInterval {
  readonly n: number;
  readonly mean: number;
  readonly low: number | null;
  readonly high: number | null;
}

/**
 * Where one arm's datagrams went missing, summed over its counted cells. A cell whose receiver
 * counted its socket's drops (`receiver.socketDrops`, the namespace's `Udp: RcvbufErrors`
 * delta) splits its lost datagrams into those the server's socket buffer had no room for and
 * those missing on the way (max(0, lost − drops)); a cell without the counters splits nothing.
 */
export interface Attribution {
  readonly lost: number;
  /** Cells with receiver counters, of the cells with a lost count. */
  readonly attributed: number;
  readonly cells: number;
  readonly socketDrops: number;
  readonly missingOnTheWay: number;
  readonly inErrors: number | null;
  /** The smallest and largest receive buffer the server's socket got, when recorded. */
  readonly socketBuffer: { readonly min: number; readonly max: number } | null;
}

export interface ArmLoss {
  readonly lossPercent: MeanWithInterval | null;
  /** Out-of-order datagrams in % of the packets. */
  readonly outOfOrderPercent: MeanWithInterval | null;
  readonly attribution: Attribution;
}

export interface LossComparison {
  readonly off: ArmLoss;
  readonly on: ArmLoss;
  /** Welch's interval for loss % on − off (percentage points); null below two values per arm. */
  readonly diff: WelchInterval | null;
  /** The interval, as shown, lies above 0: USO's arm loses more. */
  readonly higherWithUso: boolean;
}

function withInterval(xs: readonly number[]): MeanWithInterval | null {
  if (xs.length === 0) return null;
  const i = meanInterval(xs);
  // A share of datagrams is never negative: an interval reaching below 0 is cut there.
  return { n: xs.length, mean: mean(xs), low: i === null ? null : Math.max(0, i.low), high: i?.high ?? null };
}

const finite = (v: number | null | undefined): v is number => typeof v === "number" && Number.isFinite(v);

function lossValues(rows: readonly CellRow[]): number[] {
  return rows.map((r) => r.cell.lossPercent).filter(finite);
}

export function armLoss(rows: readonly CellRow[]): ArmLoss {
  const counted = rows.filter((r) => r.counted);
  const ooo = counted
    .filter((r) => finite(r.cell.outOfOrder) && finite(r.cell.packets) && (r.cell.packets as number) > 0)
    .map((r) => ((r.cell.outOfOrder as number) / (r.cell.packets as number)) * 100);
  const withLost = counted.filter((r) => finite(r.cell.lostPackets));
  const attributedRows = withLost.filter((r) => finite(r.cell.receiver?.socketDrops));
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const drops = attributedRows.map((r) => r.cell.receiver!.socketDrops as number);
  const missing = attributedRows.map((r) => Math.max(0, (r.cell.lostPackets as number) - (r.cell.receiver!.socketDrops as number)));
  const inErrors = attributedRows.map((r) => r.cell.receiver!.inErrors).filter(finite);
  const buffers = counted.map((r) => r.cell.receiver?.socketBufferBytes).filter(finite);
  return {
    lossPercent: withInterval(lossValues(counted)),
    outOfOrderPercent: withInterval(ooo),
    attribution: {
      lost: sum(withLost.map((r) => r.cell.lostPackets as number)),
      attributed: attributedRows.length,
      cells: withLost.length,
      socketDrops: sum(drops),
      missingOnTheWay: sum(missing),
      inErrors: inErrors.length === 0 ? null : sum(inErrors),
      socketBuffer: buffers.length === 0 ? null : { min: Math.min(...buffers), max: Math.max(...buffers) },
    },
  };
}

export function compareLoss(offRows: readonly CellRow[], onRows: readonly CellRow[]): LossComparison {
  const off = armLoss(offRows);
  const on = armLoss(onRows);
  const diff = welchInterval(lossValues(offRows.filter((r) => r.counted)), lossValues(onRows.filter((r) => r.counted)));
  return { off, on, diff, higherWithUso: diff !== null && excludesZero(diff.low, diff.high, LOSS_DIGITS) === "above" };
}

/** `0.12 [0.00, 0.40]`, `0.12 (n=1)` or `–`. */
export function fmtMeanInterval(m: MeanWithInterval | null, digits = LOSS_DIGITS): string {
  if (m === null) return "–";
  if (m.low === null || m.high === null) return `${fixed(m.mean, digits)} (n=${m.n})`;
  return `${fixed(m.mean, digits)} [${fixed(m.low, digits)}, ${fixed(m.high, digits)}]`;
}

/** `+0.47 pp [+0.10, +0.84]`: loss on − off. */
export function fmtLossDiff(c: LossComparison): string {
  if (c.diff === null) return "–";
  return `${signed(c.diff.diff, LOSS_DIGITS)} pp [${signed(c.diff.low, LOSS_DIGITS)}, ${signed(c.diff.high, LOSS_DIGITS)}]`;
}

/** `80 lost: 80 at the receiver's socket, 0 missing on the way (rcvbuf 212992 B)`. */
export function fmtAttribution(a: Attribution): string {
  if (a.cells === 0) return "–";
  if (a.lost === 0) return "none lost";
  const buffer = a.socketBuffer === null ? "" : a.socketBuffer.min === a.socketBuffer.max
    ? `; rcvbuf ${a.socketBuffer.min} B`
    : `; rcvbuf ${a.socketBuffer.min}–${a.socketBuffer.max} B`;
  if (a.attributed === 0) return `${a.lost} lost, not attributed (no receiver counters)${buffer}`;
  const partly = a.attributed < a.cells ? ` (counters in ${a.attributed} of ${plural(a.cells, "cell")})` : "";
  return `${a.lost} lost: ${a.socketDrops} at the receiver's socket, ${a.missingOnTheWay} missing on the way${partly}${buffer}`;
}

/** Both arms' lost datagrams in one cell: `off 0; on 80: 80 at the receiver's socket, 0 missing on the way`. */
export function fmtArmsAttribution(c: LossComparison): string {
  const { off, on } = c;
  if (off.attribution.attributed === 0 && on.attribution.attributed === 0 && (off.attribution.lost > 0 || on.attribution.lost > 0)) {
    return `off ${off.attribution.lost}; on ${on.attribution.lost} (not attributed: no receiver counters)`;
  }
  return `off ${fmtAttribution(off.attribution)}; on ${fmtAttribution(on.attribution)}`;
}
