import type { CellRow } from "./compare";

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

const COLUMNS: ReadonlyArray<[string, (r: CellRow) => string | number | boolean | null | undefined]> = [
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
  ["error", (r) => r.cell.error],
];

/** One row per cell, flagged ones included, with `counted` saying whether it entered the means. */
export function renderCsv(rows: readonly CellRow[]): string {
  const lines = [COLUMNS.map(([name]) => name).join(",")];
  for (const row of rows) lines.push(COLUMNS.map(([, get]) => field(get(row))).join(","));
  return lines.join("\r\n") + "\r\n";
}
