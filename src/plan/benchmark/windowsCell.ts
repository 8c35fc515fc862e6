import { NETKVM_MAX_USO_BYTES, NETKVM_MAX_USO_PAYLOAD, NETKVM_MIN_USO_SEGMENTS } from "../../config/features";
import type { LabConfig } from "../../config/model";
import type { Cell } from "../../results/cell";
import { scriptFile } from "../script/files";
import { powershellScript, type PsValue } from "../script/powershellScript";
import { COUNTERS_MARKER } from "./output";
import { windowsCommandLine } from "./windowsCommandLine";

const WINDOWS_ADAPTER = scriptFile(`${__dirname}/../guest`, "windows-adapter.ps1");
const NETKVM_WMI = scriptFile(`${__dirname}/../guest`, "netkvm-wmi.ps1");
const CELL_LIB = scriptFile(__dirname, "windows-cell-lib.ps1");
const IPERF3_CELL = scriptFile(__dirname, "windows-iperf3-cell.ps1");
const USO_CELL = scriptFile(__dirname, "windows-uso-cell.ps1");
const LIBRARIES = [WINDOWS_ADAPTER, NETKVM_WMI, CELL_LIB];

/**
 * How much sooner than the host the guest ends its sender. The host's `timeout` around the
 * transport ends only the host side (the guest agent cannot kill a guest process), so the
 * guest must give up first, with room for the agent's polling and the counters read.
 */
export const GUEST_DEADLINE_MARGIN_SECONDS = 10;

/** The guest's own deadline for a cell whose host deadline is `hostLimitSeconds`. */
export function guestDeadlineSeconds(hostLimitSeconds: number): number {
  return hostLimitSeconds - GUEST_DEADLINE_MARGIN_SECONDS;
}

export { NETKVM_MAX_USO_BYTES } from "../../config/features";

/**
 * Datagrams per send of the USO sender for a payload: as many as fit NetKVM's USO
 * MaxOffLoadSize (PARANDIS_MAX_USO_SIZE, 536 × 64 bytes, NetKVM/Common/ndis56common.h), at
 * least its two segments, so one send stays within what the driver offers and Windows need
 * not cut it up before the driver sees it. Validation keeps uso payloads within 17152 B
 * (src/config/rules.ts); a larger one here is a bug.
 */
export function usoSegmentsPerSend(payloadBytes: number): number {
  if (payloadBytes > NETKVM_MAX_USO_PAYLOAD) {
    throw new Error(`a uso payload of ${payloadBytes} B exceeds ${NETKVM_MAX_USO_PAYLOAD} B: ${NETKVM_MIN_USO_SEGMENTS} segments would not fit NetKVM's ${NETKVM_MAX_USO_BYTES} B`);
  }
  return Math.floor(NETKVM_MAX_USO_BYTES / payloadBytes);
}

/** The 8 bytes after each datagram's sequence number, so the receiver counts only the lab's. */
export const USO_DATAGRAM_MAGIC = "offlab01";

/** iperf3's bitrate notation (1G, 500M, 2.5K, 0 = unlimited) in bits per second. */
export function bitsPerSecond(bitrate: string): number {
  const m = /^([0-9.]+)([KMG]?)$/.exec(bitrate);
  if (m === null) throw new Error(`not an iperf3 bitrate: ${bitrate}`);
  return Number(m[1]) * { "": 1, K: 1e3, M: 1e6, G: 1e9 }[m[2] as "" | "K" | "M" | "G"];
}

/** What every Windows cell is given: the lab adapter to read NetKVM's counter from, and the counters line's key. */
function commonParameters(cfg: LabConfig): Record<string, PsValue> {
  return {
    AdapterName: cfg.guest.adapterName ?? "",
    // Get-NetAdapter prints MACs upper case with '-'.
    AdapterMac: cfg.guest.mac.toUpperCase().replace(/:/g, "-"),
    CountersMarker: COUNTERS_MARKER,
  };
}

/** iperf3.exe with a deadline (windows-iperf3-cell.ps1), NetKVM's counter around it. */
export function windowsIperf3Cell(cfg: LabConfig, args: readonly string[], hostLimitSeconds: number): string {
  return powershellScript({
    step: "benchmark",
    file: IPERF3_CELL,
    libraries: LIBRARIES,
    parameters: {
      ...commonParameters(cfg),
      Iperf3Path: cfg.guest.iperf3Path,
      Arguments: windowsCommandLine(args),
      DeadlineMs: guestDeadlineSeconds(hostLimitSeconds) * 1000,
    },
  });
}

/** The `uso` sender (windows-uso-cell.ps1): UDP_SEND_MSG_SIZE = the payload, k datagrams per send. */
export function windowsUsoCell(cfg: LabConfig, cell: Cell, hostLimitSeconds: number): string {
  return powershellScript({
    step: "benchmark",
    file: USO_CELL,
    libraries: LIBRARIES,
    parameters: {
      ...commonParameters(cfg),
      HostAddress: cfg.network.hostAddress,
      Port: cfg.iperf3.port,
      Size: cell.payloadBytes,
      Segments: usoSegmentsPerSend(cell.payloadBytes),
      BitsPerSecond: bitsPerSecond(cell.bitrate),
      LimitMs: Math.min(cell.durationSeconds * 1000, guestDeadlineSeconds(hostLimitSeconds) * 1000),
      Magic: USO_DATAGRAM_MAGIC,
    },
  });
}
