import type { SenderKind } from "../config/features";

/** What one cell of the matrix produced: one iperf3 run, parsed, with its evidence. */
export type CellStatus = "ok" | "failed" | "invalid";
export type Engaged = "yes" | "no" | "unknown";
/**
 * How the guest sent (config/features.ts SENDERS, the one list). Files written before the
 * sender existed have none: read them as `plain`.
 */
export type Sender = SenderKind;
/**
 * The per-cell USO verdict: `yes` large frames or a NetKVM counter delta; `no` a segmenting
 * sender with USO asked and nothing seen; `not-exercised` a plain sender; `unverified` no counter
 * and no capture. `unknown` is what files from before this verdict say.
 */
export type UsoVerdict = "yes" | "no" | "not-exercised" | "unverified";
/**
 * The USO arm a cell ran in, when the lab switched the guest's USO between cells of one booted
 * lab (in-lab arms). Absent: the arm is the stack's own `uso`.
 */
export type Arm = "off" | "on";

/**
 * Where the receiver lost datagrams, counted in the namespace of the iperf3 server over the cell.
 * Datagrams missing on the way = max(0, lostPackets − socketDrops).
 */
export interface ReceiverCounters {
  /** Delta of `Udp: RcvbufErrors` (/proc/net/snmp): datagrams the server's socket buffer had no room for. */
  readonly socketDrops: number | null;
  /** Delta of `Udp: InErrors`. */
  readonly inErrors: number | null;
  /** The receive buffer the server socket really got (ss skmem rb). */
  readonly socketBufferBytes: number | null;
}

export interface CaptureEvidence {
  /** Frames the bounded capture on the host tap saw. */
  readonly frames: number;
  readonly largestFrameBytes: number;
  /** Frames longer than MTU + 14 (Ethernet header): the stack handed the NIC a super-frame. */
  readonly framesOverMtu: number;
  readonly engaged: Engaged;
}

export interface CellEvidence {
  readonly usoRequested: boolean;
  readonly capture?: CaptureEvidence;
  /** NetKVM `NetKvm_Diag` UdpOffload counter delta over the cell, where the driver exposes it. */
  readonly udpOffloadDelta?: number | null;
  /** The verdict over all evidence: did USO engage for this cell? */
  readonly usoEngaged: UsoVerdict | Engaged;
  /** Frames on the tap longer than MTU + 14, the largest one, all frames seen, datagrams per frame (mean). */
  readonly largeFrames?: number;
  readonly largestFrame?: number;
  readonly totalFrames?: number;
  readonly datagramsPerFrame?: number | null;
  /** The tap's rx_bytes delta over the cell. */
  readonly tapBytes?: number;
  /** tapBytes / totalFrames. */
  readonly meanFrameBytes?: number | null;
  /** meanFrameBytes > MTU + 14: the guest handed the host super-frames (counters only, no capture). */
  readonly superFrames?: boolean;
}

export interface CellResult {
  /** e.g. `udp-8972B-mtu9000-uso-on-r2`. */
  readonly id: string;
  readonly variant: string;
  /** Absent in files from before senders existed: `plain`. */
  readonly sender?: Sender;
  readonly status: CellStatus;
  readonly error: string | null;
  readonly payloadBytes: number;
  readonly mtu: number;
  readonly bitrate: string;
  readonly repetition: number;
  readonly durationSeconds: number;
  /** Receiver truth: iperf3 `end.sum_received.bits_per_second`. */
  readonly throughputBps: number | null;
  /** `end.sum_sent.bits_per_second`. */
  readonly senderBps: number | null;
  readonly jitterMs: number | null;
  readonly lostPackets: number | null;
  readonly packets: number | null;
  readonly lossPercent: number | null;
  readonly outOfOrder: number | null;
  readonly guestCpuPercent: number | null;
  readonly hostCpuPercent: number | null;
  /** payload > MTU − 28: every datagram is IP-fragmented. */
  readonly fragmented: boolean;
  /** The receiver stopped getting data part-way (esnet/iperf#1934). */
  readonly stalled: boolean;
  readonly evidence: CellEvidence;
  /** In-lab arms only: the USO arm the cell ran in (see `Arm`). */
  readonly arm?: Arm;
  /**
   * In-lab arms only: the 1-based off/on pair the cell belongs to (arms run off, on, off, on …;
   * pair k of arm off ran right before pair k of arm on, on the same boot).
   */
  readonly pair?: number;
  /**
   * In-lab arms: the switch's read-back JSON as the guest printed it right after switching, e.g.
   * `{"interface":"eth0","requested":"on","actual":"on","setErrors":""}` (uso-switch.sh; NetKVM's
   * registry and driver flags from uso-switch.ps1).
   */
  readonly armReadBack?: string;
  /** Loss attribution at the receiver, when the lab counted it. */
  readonly receiver?: ReceiverCounters;
  /** The cell's wall time on the host, its USO switch included: what one more sample of one arm costs. */
  readonly wallSeconds?: number;
}

/**
 * One cell of the matrix as planned (src/plan/benchmark/cells.ts) or imported
 * (importIperf3.ts): a payload size from one sender at a bitrate, one repetition.
 */
export interface Cell {
  /** `cellId(...)`, e.g. `udp-8972B-gso-mtu9000-uso-on-r2`. */
  readonly id: string;
  readonly variant: string;
  readonly sender: Sender;
  readonly payloadBytes: number;
  readonly bitrate: string;
  /** 1-based. */
  readonly repetition: number;
  readonly durationSeconds: number;
  readonly mtu: number;
  /** payload > MTU − 28: every datagram leaves the guest as IP fragments. */
  readonly fragmented: boolean;
  /** The guest's USO as the cell runs: its arm with in-lab arms, else the stack's guestOffloads.uso. */
  readonly usoRequested: boolean;
  /** In-lab arms: the arm the benchmark switches the guest to before this cell. */
  readonly arm?: Arm;
  /** In-lab arms: the pair (the repetition) it belongs to; its off cell runs right before its on cell. */
  readonly pair?: number;
}

/**
 * The cell id, the one format for the lab's cells and imported runs: payload, sender, the
 * bitrate only when the matrix lists several (null: left out), variant, repetition, and with
 * in-lab arms the arm (`-off`, `-on`). `payload-unknown` for an imported run that failed
 * before it said its payload.
 */
export function cellId(variant: string, payloadBytes: number | null, sender: Sender, bitrate: string | null, repetition: number, arm?: Arm): string {
  const payload = payloadBytes === null ? "payload-unknown" : `${payloadBytes}B`;
  const rate = bitrate === null ? "" : `-b${bitrate}`;
  return `udp-${payload}-${sender}${rate}-${variant}-r${repetition}${arm === undefined ? "" : `-${arm}`}`;
}
