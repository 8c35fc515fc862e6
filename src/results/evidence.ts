import type { SenderKind } from "../config/features";
import type { CellEvidence, UsoVerdict } from "./cell";

/**
 * What the host saw of one cell on the tap: the kernel-side filter's count of the guest's
 * frames longer than MTU + 14 (the only ones that leave the kernel), and the tap's own
 * receive counter over the cell for all frames.
 */
export interface TapCounts {
  readonly largeFrames: number;
  readonly largestFrame: number;
  /** Datagrams the large frames carried: ceil((frame − 42) / payload) each. */
  readonly largeFrameDatagrams: number;
  readonly totalFrames: number;
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

/**
 * The verdict for one cell. A large frame on the tap or a NetKVM UdpOffload delta is direct
 * evidence of USO (`yes`). Without it, a plain sender could not have shown USO whatever the
 * offload says (`not-exercised`); a segmenting sender that was watched and showed nothing
 * says `no`; one that nobody could watch is `unverified`.
 */
export function usoVerdict(sender: SenderKind, tap: TapCounts | undefined, udpOffloadDelta: number | null): UsoVerdict {
  if ((tap?.largeFrames ?? 0) > 0 || (udpOffloadDelta ?? 0) > 0) return "yes";
  if (!segmenting(sender)) return "not-exercised";
  return tap !== undefined || udpOffloadDelta !== null ? "no" : "unverified";
}

/**
 * Mean datagrams per frame of the guest's traffic: large frames count what they carried,
 * every other frame one. Null when the tap saw no frames.
 */
export function datagramsPerFrame(tap: TapCounts): number | null {
  if (tap.totalFrames <= 0) return null;
  const small = Math.max(0, tap.totalFrames - tap.largeFrames);
  return (tap.largeFrameDatagrams + small) / Math.max(tap.totalFrames, tap.largeFrames);
}

export function cellEvidence(
  sender: SenderKind,
  usoRequested: boolean,
  tap: TapCounts | undefined,
  udpOffloadDelta: number | null,
): CellEvidence {
  return {
    usoRequested,
    ...(tap === undefined
      ? {}
      : {
          largeFrames: tap.largeFrames,
          largestFrame: tap.largestFrame,
          totalFrames: tap.totalFrames,
          datagramsPerFrame: datagramsPerFrame(tap),
        }),
    udpOffloadDelta,
    usoEngaged: usoVerdict(sender, tap, udpOffloadDelta),
  };
}
