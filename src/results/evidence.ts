import type { SenderKind } from "../config/features";
import type { CellEvidence, UsoVerdict } from "./cell";

/**
 * The tap's own receive counters over one cell (rx_packets and rx_bytes deltas): every frame
 * the guest sent, at no cost to the measurement. The tap counts one packet per frame as the
 * guest handed it over, so a USO super-frame counts once with all its bytes.
 */
export interface TapCounters {
  readonly frames: number;
  readonly bytes: number;
}

/**
 * What the optional capture (capture.frames) saw: the kernel-side filter's count of the guest's
 * frames longer than MTU + 14 (the only ones that leave the kernel) and their lengths.
 */
export interface CaptureCounts {
  readonly largeFrames: number;
  readonly largestFrame: number;
  /** Datagrams the large frames carried: ceil((frame − 42) / payload) each. */
  readonly largeFrameDatagrams: number;
  /** The capture stopped at capture.maxPackets: more large frames passed than were counted. */
  readonly capped?: boolean;
}

/** Ethernet header: a frame longer than MTU + 14 carries more than one MTU of IP. */
export const ETHERNET_HEADER_BYTES = 14;

/** NetKVM's UdpOffload counter over the cell; null when either reading is missing. */
export function counterDelta(before: number | null | undefined, after: number | null | undefined): number | null {
  if (typeof before !== "number" || typeof after !== "number") return null;
  return after - before;
}

/** A segmenting sender hands the stack many datagrams per send; plain iperf3 one. */
function segmenting(sender: SenderKind): boolean {
  return sender !== "plain";
}

/** The tap's mean frame over the cell: bytes / frames; null when it saw no frame. */
export function meanFrameBytes(tap: TapCounters): number | null {
  return tap.frames > 0 ? tap.bytes / tap.frames : null;
}

/**
 * Super-frames from the counters alone: a mean frame longer than MTU + 14 can only be, since no
 * ordinary frame is, so the guest handed the host frames of more than one MTU (USO engaged).
 */
export function superFrames(tap: TapCounters, mtu: number): boolean {
  const mean = meanFrameBytes(tap);
  return mean !== null && mean > mtu + ETHERNET_HEADER_BYTES;
}

/** What the verdict is decided on: any of the three may be missing. */
export interface Seen {
  readonly tap?: TapCounters;
  readonly capture?: CaptureCounts;
  readonly udpOffloadDelta: number | null;
}

/**
 * The verdict for one cell, decided here once. Direct evidence of USO (`yes`): super-frames in
 * the tap's counters, a large frame in the capture, or a NetKVM UdpOffload delta. Without it, a
 * plain sender could not have shown USO whatever the offload says (`not-exercised`); a
 * segmenting sender that was watched (counters, capture or counter) and showed nothing says
 * `no`; one that nobody could watch is `unverified`.
 */
export function usoVerdict(sender: SenderKind, mtu: number, seen: Seen): UsoVerdict {
  const { tap, capture, udpOffloadDelta } = seen;
  if ((tap !== undefined && superFrames(tap, mtu)) || (capture?.largeFrames ?? 0) > 0 || (udpOffloadDelta ?? 0) > 0) return "yes";
  if (!segmenting(sender)) return "not-exercised";
  return tap !== undefined || capture !== undefined || udpOffloadDelta !== null ? "no" : "unverified";
}

/**
 * Mean datagrams per frame of the guest's traffic, from the capture and the tap's frame count:
 * large frames count what they carried, every other frame one. Null when the tap saw no frames,
 * or when the capture stopped at its bound (the uncounted large frames would pass for single
 * datagrams).
 */
export function datagramsPerFrame(capture: CaptureCounts, totalFrames: number): number | null {
  if (totalFrames <= 0 || capture.capped === true) return null;
  const small = Math.max(0, totalFrames - capture.largeFrames);
  return (capture.largeFrameDatagrams + small) / Math.max(totalFrames, capture.largeFrames);
}

/**
 * A cell's evidence: the counters' figures (frames, bytes, mean frame, super-frames), the
 * capture's (largest frame, large frames, datagrams per frame) only when it ran, NetKVM's
 * counter where the driver has it, and the verdict.
 */
export function cellEvidence(sender: SenderKind, usoRequested: boolean, mtu: number, seen: Seen): CellEvidence {
  const { tap, capture } = seen;
  return {
    usoRequested,
    ...(tap === undefined
      ? {}
      : { totalFrames: tap.frames, tapBytes: tap.bytes, meanFrameBytes: meanFrameBytes(tap), superFrames: superFrames(tap, mtu) }),
    ...(capture === undefined
      ? {}
      : {
          largeFrames: capture.largeFrames,
          largestFrame: capture.largestFrame,
          datagramsPerFrame: tap === undefined ? null : datagramsPerFrame(capture, tap.frames),
        }),
    udpOffloadDelta: seen.udpOffloadDelta,
    usoEngaged: usoVerdict(sender, mtu, seen),
  };
}
