import { IPV4_UDP_HEADER_BYTES } from "../config/features";

/** The UDP payloads IPv4 can carry and the lab accepts (`matrix.payloads`). */
export const MIN_PAYLOAD_BYTES = 16;
export const MAX_PAYLOAD_BYTES = 65507;

/**
 * No path the lab measures (a virtio-net tap, a veth, loopback) comes within an order of
 * magnitude of 1 Tbit/s; a rate above it, or a packet count that would need it, is a corrupt
 * or hand-edited number, not a fast run.
 */
export const MAX_PLAUSIBLE_BPS = 1e12;

/** The numbers of a cell that a file supplies; any may be null (not measured). */
export interface CellNumbers {
  readonly payloadBytes: number | null;
  readonly durationSeconds: number | null;
  readonly throughputBps?: number | null;
  readonly senderBps?: number | null;
  readonly jitterMs?: number | null;
  readonly lostPackets?: number | null;
  readonly packets?: number | null;
  readonly lossPercent?: number | null;
  readonly outOfOrder?: number | null;
  readonly guestCpuPercent?: number | null;
  readonly hostCpuPercent?: number | null;
}

const given = (v: number | null | undefined): v is number => v !== null && v !== undefined;

function fmt(v: number): string {
  return Math.abs(v) >= 1e6 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3).replace(/\.?0+e/, "e") : String(v);
}

/** Why the payload cannot be a UDP payload over IPv4, or null when it can. */
export function implausiblePayload(payloadBytes: number | null): string | null {
  if (payloadBytes === null) return null;
  if (!Number.isInteger(payloadBytes) || payloadBytes < MIN_PAYLOAD_BYTES || payloadBytes > MAX_PAYLOAD_BYTES) {
    return `payload ${fmt(payloadBytes)} B is outside ${MIN_PAYLOAD_BYTES}–${MAX_PAYLOAD_BYTES} B, the UDP payloads IPv4 carries`;
  }
  return null;
}

/**
 * Every number of a cell that cannot have been measured, each with the reason: a negative or
 * non-finite rate or count, a rate above MAX_PLAUSIBLE_BPS, loss outside 0–100 %, or more
 * packets than the run's duration allows at that rate with the smallest datagram on the wire.
 */
export function implausibleNumbers(c: CellNumbers): string[] {
  const reasons: string[] = [];
  const payload = implausiblePayload(c.payloadBytes);
  if (payload !== null) reasons.push(payload);
  const rate = (name: string, v: number | null | undefined): void => {
    if (!given(v)) return;
    if (!Number.isFinite(v) || v < 0) reasons.push(`${name} ${fmt(v)} bit/s is not a rate`);
    else if (v > MAX_PLAUSIBLE_BPS) reasons.push(`${name} ${fmt(v)} bit/s is above ${fmt(MAX_PLAUSIBLE_BPS)} bit/s, beyond any path the lab measures`);
  };
  rate("receiver rate", c.throughputBps);
  rate("sender rate", c.senderBps);
  const nonNegative = (name: string, v: number | null | undefined, unit: string): void => {
    if (given(v) && (!Number.isFinite(v) || v < 0)) reasons.push(`${name} ${fmt(v)}${unit} is negative or not finite`);
  };
  nonNegative("jitter", c.jitterMs, " ms");
  nonNegative("lost packets", c.lostPackets, "");
  nonNegative("packets", c.packets, "");
  nonNegative("out-of-order", c.outOfOrder, "");
  nonNegative("guest CPU", c.guestCpuPercent, " %");
  nonNegative("host CPU", c.hostCpuPercent, " %");
  if (given(c.lossPercent) && !(c.lossPercent >= 0 && c.lossPercent <= 100)) reasons.push(`loss ${fmt(c.lossPercent)} % is outside 0–100 %`);
  if (given(c.lostPackets) && given(c.packets) && c.lostPackets > c.packets && c.packets >= 0) {
    reasons.push(`${fmt(c.lostPackets)} lost of ${fmt(c.packets)} packets`);
  }
  // The fewest bits a datagram can take on the wire: its payload and its IPv4 and UDP headers.
  const bits = ((payload === null && given(c.payloadBytes) ? c.payloadBytes : MIN_PAYLOAD_BYTES) + IPV4_UDP_HEADER_BYTES) * 8;
  if (given(c.packets) && Number.isFinite(c.packets) && given(c.durationSeconds) && c.durationSeconds > 0) {
    const most = (c.durationSeconds * MAX_PLAUSIBLE_BPS) / bits;
    if (c.packets > most) reasons.push(`${fmt(c.packets)} packets in ${fmt(c.durationSeconds)} s would need more than ${fmt(MAX_PLAUSIBLE_BPS)} bit/s`);
  }
  return reasons;
}
