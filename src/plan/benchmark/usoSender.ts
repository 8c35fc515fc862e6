import { z } from "zod";
import type { Iperf3Run } from "../../results/iperf3";

// The Windows `uso` sender's JSON (windows-uso-cell.ps1) and its host receiver's counts
// (uso-receiver.py), as one run with the fields an iperf3 run has: receiver throughput, loss,
// out-of-order and jitter (RFC 3550, from the send times the datagrams carry, as iperf3
// computes it) from the receiver; the sender's own CPU (its process's TotalProcessorTime over
// the sending) as the guest CPU, as iperf3's host_total is. No host CPU figure.

const senderOutput = z.object({
  sender: z.literal("uso"),
  messageSize: z.number(),
  segmentsPerSend: z.number(),
  sends: z.number(),
  datagrams: z.number(),
  bytes: z.number(),
  seconds: z.number(),
  /** TotalProcessorTime of the sender's process over the sending. */
  cpuSeconds: z.number(),
  /** How it held the bitrate: a high-resolution waitable timer, a spin (its CPU counted), or none at bitrate 0. */
  pacing: z.enum(["high-resolution-timer", "spin", "none"]),
  error: z.string().nullable(),
});

/** What uso-receiver.py prints: part of the benchmark's line for a `uso` cell (output.ts). */
export const usoReceiverCounts = z.object({
  datagrams: z.number(),
  bytes: z.number(),
  maxSequence: z.number(),
  outOfOrder: z.number(),
  seconds: z.number(),
  /** RFC 3550 jitter over the datagrams that carried a send time; null when none did. */
  jitterMs: z.number().nullable(),
  /** The receive buffer asked for, the one the kernel gave (getsockopt), and the option that set it. */
  requestedBufferBytes: z.number(),
  bufferBytes: z.number(),
  bufferOption: z.enum(["SO_RCVBUFFORCE", "SO_RCVBUF"]),
});

export type UsoReceiverCounts = z.output<typeof usoReceiverCounts>;

function run(error: string | null, over: Partial<Omit<Iperf3Run, "error">> = {}): Iperf3Run {
  return {
    error, version: null, payloadBytes: null, durationSeconds: null, targetBitrate: null, reverse: false, gso: false,
    throughputBps: null, senderBps: null, jitterMs: null, lostPackets: null, packets: null, lossPercent: null,
    outOfOrder: null, localCpuPercent: null, remoteCpuPercent: null, stalled: false, receiverIntervals: null, invalidReason: null, ...over,
  };
}

/**
 * Throughput is what the receiver got over the cell's duration (its first-to-last span is
 * shorter by a datagram's time, and zero for one datagram); loss is what the sender sent and
 * the receiver never saw.
 */
export function usoRun(senderText: string, receiver: UsoReceiverCounts | undefined, durationSeconds: number): Iperf3Run {
  let doc: unknown;
  try {
    doc = JSON.parse(senderText.trim());
  } catch {
    return run(`the uso sender printed no JSON: ${JSON.stringify(senderText.slice(0, 200))}`);
  }
  const sent = senderOutput.safeParse(doc);
  if (!sent.success) return run(`the uso sender's JSON is not its report: ${sent.error.issues[0]?.message ?? ""}`);
  const s = sent.data;
  const base = {
    payloadBytes: s.messageSize,
    durationSeconds,
    senderBps: s.seconds > 0 ? (s.bytes * 8) / s.seconds : null,
    packets: s.datagrams,
    localCpuPercent: s.seconds > 0 ? (100 * s.cpuSeconds) / s.seconds : null,
  };
  if (s.error !== null) return run(s.error, base);
  if (receiver === undefined) return run("the host's uso receiver reported nothing (see the benchmark step's stderr)", base);
  const r = receiver;
  const lost = Math.max(0, s.datagrams - r.datagrams);
  return run(null, {
    ...base,
    throughputBps: (r.bytes * 8) / durationSeconds,
    lostPackets: lost,
    lossPercent: s.datagrams > 0 ? (100 * lost) / s.datagrams : null,
    outOfOrder: r.outOfOrder,
    jitterMs: r.jitterMs,
  });
}
