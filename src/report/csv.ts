import type { CellRow } from "./compare";
import { cellProblem } from "./format";
import type { ReportModel } from "./model";
import { precisionReached } from "./precision";
import { isInterval } from "./ratio";
import type { VerdictRow } from "./verdict";

/**
 * A spreadsheet runs a cell starting with one of these as a formula; a hostile variant name must
 * stay text (OWASP "CSV injection").
 */
const FORMULA_START = /^[=+\-@\t\r]/;

function field(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "";
  if (typeof v === "boolean") return v ? "true" : "false";
  const text = FORMULA_START.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

type Value = string | number | boolean | null | undefined;

const COLUMNS: ReadonlyArray<[string, (r: CellRow, v: VerdictRow | undefined) => Value]> = [
  ["source", (r) => r.run.source],
  ["stack", (r) => r.run.stack],
  ["variant", (r) => r.run.variant],
  ["os", (r) => r.run.os],
  ["mtu", (r) => r.cell.mtu],
  ["uso", (r) => r.uso],
  ["sender", (r) => r.sender],
  ["payload_bytes", (r) => r.cell.payloadBytes],
  ["bitrate", (r) => r.cell.bitrate],
  ["repetition", (r) => r.cell.repetition],
  ["cell_id", (r) => r.cell.id],
  ["status", (r) => r.cell.status],
  ["counted", (r) => r.counted],
  ["flags", (r) => r.flags.join(" ")],
  ["throughput_mbps", (r) => r.values.throughput],
  ["sender_mbps", (r) => (r.cell.senderBps == null ? null : r.cell.senderBps / 1e6)],
  ["jitter_ms", (r) => r.cell.jitterMs],
  ["loss_percent", (r) => r.cell.lossPercent],
  ["lost_packets", (r) => r.cell.lostPackets],
  ["packets", (r) => r.cell.packets],
  ["out_of_order", (r) => r.cell.outOfOrder],
  ["guest_cpu_percent", (r) => r.cell.guestCpuPercent],
  ["host_cpu_percent", (r) => r.cell.hostCpuPercent],
  ["efficiency_mbps_per_cpu_percent", (r) => r.values.efficiency],
  ["duration_seconds", (r) => r.cell.durationSeconds],
  ["fragmented", (r) => r.cell.fragmented],
  ["stalled", (r) => r.cell.stalled],
  ["uso_requested", (r) => r.cell.evidence.usoRequested],
  ["uso_engaged", (r) => r.verdict],
  ["large_frames", (r) => r.cell.evidence.largeFrames ?? r.cell.evidence.capture?.framesOverMtu],
  ["largest_frame", (r) => r.cell.evidence.largestFrame ?? r.cell.evidence.capture?.largestFrameBytes],
  ["datagrams_per_frame", (r) => r.cell.evidence.datagramsPerFrame],
  ["udp_offload_delta", (r) => r.cell.evidence.udpOffloadDelta],
  ["error", (r) => cellProblem(r.cell.error, r.implausible)],
  ["host", (r) => r.host],
  ["arm", (r) => (r.uso === null ? null : r.uso ? "on" : "off")],
  ["pair", (r) => r.cell.pair],
  ["measure", (r) => r.measure],
  // Mbit/s at -b 0, guest CPU % per delivered Gbit/s at a fixed bitrate; empty when not counted.
  ["measure_value", (r) => r.measured],
  ["socket_drops", (r) => r.cell.receiver?.socketDrops],
  ["missing_on_the_way", (r) => {
    const drops = r.cell.receiver?.socketDrops;
    return typeof drops === "number" && typeof r.cell.lostPackets === "number" ? Math.max(0, r.cell.lostPackets - drops) : null;
  }],
  ["udp_in_errors", (r) => r.cell.receiver?.inErrors],
  ["socket_buffer_bytes", (r) => r.cell.receiver?.socketBufferBytes],
  ["tap_bytes", (r) => r.cell.evidence.tapBytes],
  ["mean_frame_bytes", (r) => r.cell.evidence.meanFrameBytes],
  ["super_frames", (r) => r.cell.evidence.superFrames],
  // The verdict row the cell belongs to, repeated on each of its cells.
  ["verdict_row", (_r, v) => v?.key],
  ["verdict_on_off_ratio", (_r, v) => (v === undefined ? null : v.ratio.ratio)],
  ["verdict_ratio_low", (_r, v) => (v !== undefined && isInterval(v.ratio) ? v.ratio.low : null)],
  ["verdict_ratio_high", (_r, v) => (v !== undefined && isInterval(v.ratio) ? v.ratio.high : null)],
  ["verdict_ratio_method", (_r, v) => (v === undefined ? null : v.ratio.method)],
  ["verdict_precision_percent", (_r, v) => (v !== undefined && isInterval(v.ratio) ? precisionReached(v.ratio) * 100 : null)],
  ["verdict", (_r, v) => v?.verdict],
];

/**
 * One row per cell, flagged ones included, with `counted` saying whether it entered the means;
 * the last columns repeat the verdict row the cell is in (ratio, interval, precision, verdict).
 */
export function renderCsv(model: ReportModel): string {
  const rowOf = new Map<CellRow, VerdictRow>();
  for (const v of model.verdicts) for (const r of [...v.off, ...v.on]) rowOf.set(r, v);
  const lines = [COLUMNS.map(([name]) => name).join(",")];
  for (const row of model.analysis.rows) lines.push(COLUMNS.map(([, get]) => field(get(row, rowOf.get(row)))).join(","));
  return lines.join("\r\n") + "\r\n";
}
