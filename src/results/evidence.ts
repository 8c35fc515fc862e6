import type { CaptureEvidence, CellEvidence, Engaged } from "./cell";

/** What the benchmark's capture on the host tap saw during one cell. */
export interface CaptureSummary {
  readonly frames: number;
  readonly largestFrameBytes: number;
  readonly framesOverMtu: number;
}

/** Ethernet header: a frame longer than MTU + 14 carries more than one MTU of IP. */
export const ETHERNET_HEADER_BYTES = 14;

/**
 * A frame longer than the MTU on the tap means the guest handed over a super-frame for
 * the host to segment: the offload engaged. No frames at all says nothing.
 */
export function captureEvidence(summary: CaptureSummary): CaptureEvidence {
  const engaged: Engaged = summary.frames === 0 ? "unknown" : summary.framesOverMtu > 0 ? "yes" : "no";
  return { ...summary, engaged };
}

/** NetKVM's UdpOffload counter over the cell; null when either reading is missing. */
export function counterDelta(before: number | null | undefined, after: number | null | undefined): number | null {
  if (typeof before !== "number" || typeof after !== "number") return null;
  return after - before;
}

/**
 * The verdict for one cell. The driver's own counter, where it exists, is direct evidence
 * and wins; otherwise the capture decides; otherwise nobody knows.
 */
export function cellEvidence(usoRequested: boolean, capture: CaptureEvidence | undefined, udpOffloadDelta: number | null): CellEvidence {
  let usoEngaged: Engaged = capture?.engaged ?? "unknown";
  if (udpOffloadDelta !== null) usoEngaged = udpOffloadDelta > 0 ? "yes" : "no";
  return { usoRequested, ...(capture === undefined ? {} : { capture }), udpOffloadDelta, usoEngaged };
}
