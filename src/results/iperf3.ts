// iperf3 -J output (3.12 .. 3.22 keys) → the numbers a cell reports. Pure: text in, data out.

/** One iperf3 client run as the lab reads it. Numbers are null where the run did not produce them. */
export interface Iperf3Run {
  /** iperf3's own `error`, or why the output could not be read as an iperf3 JSON document. */
  readonly error: string | null;
  readonly version: string | null;
  /** `start.test_start.blksize`: the UDP payload. */
  readonly payloadBytes: number | null;
  readonly durationSeconds: number | null;
  /** `start.test_start.target_bitrate` in bits/s (0 = unlimited). */
  readonly targetBitrate: number | null;
  /** -R: the server sent, the client (which printed the JSON) received. */
  readonly reverse: boolean;
  /** `start.test_start.gso` (iperf3 >= 3.21): the client sent with UDP GSO (--gsro). */
  readonly gso: boolean;
  readonly throughputBps: number | null;
  readonly senderBps: number | null;
  /**
   * Jitter and loss as the receiver counted them: with the server receiving, from its own
   * report (server_output_json) when there is one. A 3.22 client's copy of a 3.12 server's
   * sum_received says 0 lost whatever the server counted.
   */
  readonly jitterMs: number | null;
  readonly lostPackets: number | null;
  readonly packets: number | null;
  readonly lossPercent: number | null;
  readonly outOfOrder: number | null;
  /** CPU of the process that printed the JSON (`host_total`). */
  readonly localCpuPercent: number | null;
  /** CPU of the other end (`remote_total`). */
  readonly remoteCpuPercent: number | null;
  /** The receiver stopped getting data part-way (esnet/iperf#1934); false when unknown. */
  readonly stalled: boolean;
  /** Bytes the receiver got per interval, when its intervals are known. */
  readonly receiverIntervals: readonly ReceiverInterval[] | null;
  /** Why a finished run's numbers mean nothing (stalled, nothing received); null when sound. */
  readonly invalidReason: string | null;
}

export interface ReceiverInterval {
  readonly start: number;
  readonly seconds: number;
  readonly bytes: number;
}

/** A receiver interval at least this long with no data counts as a stall, not a rounding tail. */
const STALL_MIN_INTERVAL_SECONDS = 0.5;

type Json = Record<string, unknown>;

function obj(v: unknown): Json | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : undefined;
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function at(root: unknown, ...path: string[]): unknown {
  let v: unknown = root;
  for (const p of path) v = obj(v)?.[p];
  return v;
}

function jsonIntervals(intervals: unknown): ReceiverInterval[] | null {
  if (!Array.isArray(intervals)) return null;
  const out: ReceiverInterval[] = [];
  for (const i of intervals) {
    const sum = obj(obj(i)?.sum);
    const start = num(sum?.start);
    const seconds = num(sum?.seconds);
    const bytes = num(sum?.bytes);
    if (sum?.omitted === true || start === null || seconds === null || bytes === null) continue;
    out.push({ start, seconds, bytes });
  }
  return out;
}

const UNIT: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** A server started without -J reports its intervals as text (`server_output_text`). */
function textIntervals(text: unknown): ReceiverInterval[] | null {
  if (typeof text !== "string") return null;
  const out: ReceiverInterval[] = [];
  const line = /^\[\s*\d+\]\s+(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)\s+sec\s+(\d+(?:\.\d+)?)\s+([KMGT]?)Bytes\b(.*)$/;
  for (const l of text.split("\n")) {
    const m = line.exec(l.trim());
    if (!m || /\b(sender|receiver)\s*$/.test(m[5]!)) continue;
    const start = Number(m[1]);
    out.push({ start, seconds: Number(m[2]) - start, bytes: Number(m[3]) * UNIT[m[4]!]! });
  }
  return out.length > 0 ? out : null;
}

function receiverIntervalsOf(doc: Json, reverse: boolean): ReceiverInterval[] | null {
  if (reverse) return jsonIntervals(doc.intervals);
  return jsonIntervals(at(doc, "server_output_json", "intervals")) ?? textIntervals(doc.server_output_text);
}

/**
 * Stalled: the receiver got data, then a whole interval with nothing while the sender was
 * still sending. A short zero tail after the sender stopped is normal and not a stall.
 */
export function isStalled(intervals: readonly ReceiverInterval[] | null, senderSeconds: number | null): boolean {
  if (intervals === null) return false;
  const first = intervals.findIndex((i) => i.bytes > 0);
  if (first < 0) return false;
  const sendingUntil = senderSeconds ?? Infinity;
  return intervals
    .slice(first + 1)
    .some((i) => i.bytes === 0 && i.seconds >= STALL_MIN_INTERVAL_SECONDS && i.start < sendingUntil);
}

function failedRun(error: string, doc?: Json): Iperf3Run {
  const testStart = at(doc, "start", "test_start");
  return {
    error,
    version: typeof at(doc, "start", "version") === "string" ? (at(doc, "start", "version") as string) : null,
    payloadBytes: num(at(testStart, "blksize")),
    durationSeconds: num(at(testStart, "duration")),
    targetBitrate: num(at(testStart, "target_bitrate")),
    reverse: at(testStart, "reverse") === 1,
    gso: at(testStart, "gso") === 1,
    throughputBps: null,
    senderBps: null,
    jitterMs: null,
    lostPackets: null,
    packets: null,
    lossPercent: null,
    outOfOrder: null,
    localCpuPercent: null,
    remoteCpuPercent: null,
    stalled: false,
    receiverIntervals: null,
    invalidReason: null,
  };
}

/**
 * A finished run in which no datagram arrived reads as 0 bit/s, not as a slow path: iperf3
 * 3.22 --gsro with a payload above MTU - 28 sends nothing (the kernel refuses each GSO send)
 * and reports no error.
 */
function invalidReasonOf(run: Pick<Iperf3Run, "stalled" | "packets" | "gso" | "payloadBytes">, sentBytes: number | null): string | null {
  if (run.packets === 0) {
    const why = run.gso
      ? `with --gsro, datagrams of ${run.payloadBytes ?? "?"} B above the path MTU - 28 are never sent, and iperf3 reports no error`
      : "nothing reached the receiver";
    return `no datagram was received (0 packets, ${sentBytes ?? "?"} bytes sent): ${why}`;
  }
  if (run.stalled) return "the receiver stopped getting datagrams part-way (esnet/iperf#1934): numbers not comparable";
  return null;
}

/** Parses one iperf3 -J document. Never throws: unreadable output becomes `error`. */
export function parseIperf3(text: string): Iperf3Run {
  if (text.trim() === "") return failedRun("iperf3 printed nothing");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return failedRun(`iperf3 output is not JSON: ${(e as Error).message}`);
  }
  const doc = obj(parsed);
  if (doc === undefined) return failedRun("iperf3 output is not a JSON object");
  if (typeof doc.error === "string") return failedRun(doc.error, doc);
  const received = obj(at(doc, "end", "sum_received"));
  const sent = obj(at(doc, "end", "sum_sent"));
  if (received === undefined) return failedRun("iperf3 JSON has no end.sum_received (not a finished UDP test)", doc);

  const base = failedRun("", doc);
  // The receiver's own report: the server's when it received and ran with -J.
  const receiverReport = (!base.reverse && obj(at(doc, "server_output_json", "end", "sum_received"))) || received;
  const streams = at(doc, "end", "streams");
  const outOfOrder = Array.isArray(streams)
    ? streams.reduce<number | null>((acc, s) => {
        const n = num(at(s, "udp", "out_of_order"));
        return n === null ? acc : (acc ?? 0) + n;
      }, null)
    : null;
  const cpu = at(doc, "end", "cpu_utilization_percent");
  const intervals = receiverIntervalsOf(doc, base.reverse);
  const run = {
    ...base,
    error: null,
    throughputBps: num(received.bits_per_second),
    senderBps: num(sent?.bits_per_second),
    jitterMs: num(receiverReport.jitter_ms),
    lostPackets: num(receiverReport.lost_packets),
    packets: num(received.packets),
    lossPercent: num(receiverReport.lost_percent),
    outOfOrder,
    localCpuPercent: num(at(cpu, "host_total")),
    remoteCpuPercent: num(at(cpu, "remote_total")),
    stalled: isStalled(intervals, num(sent?.seconds)),
    receiverIntervals: intervals,
  };
  return { ...run, invalidReason: invalidReasonOf(run, num(sent?.bytes)) };
}

/** iperf3's target bitrate in bits/s as the `-b` value that asks for it (200000000 → 200M). */
export function bitrateFlag(bitsPerSecond: number): string {
  for (const [suffix, unit] of [["G", 1e9], ["M", 1e6], ["K", 1e3]] as const) {
    if (bitsPerSecond >= unit && bitsPerSecond % unit === 0) return `${bitsPerSecond / unit}${suffix}`;
  }
  return String(bitsPerSecond);
}
