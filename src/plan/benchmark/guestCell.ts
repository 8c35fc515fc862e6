import type { LabConfig } from "../../config/model";
import { shArgs } from "../quote";
import type { Cell } from "./cells";
import { windowsIperf3Cell, windowsUsoCell } from "./windowsCell";

export { COUNTERS_MARKER } from "./windowsCell";

/** iperf3's own bound on reaching a dead or firewalled server. */
export const CONNECT_TIMEOUT_MS = 5000;
/** Seconds a cell may run past its duration (connect, result exchange) before it is killed. */
export const CELL_GRACE_SECONDS = 30;

/**
 * The client argv of one cell, without the program. `--gsro` (iperf3 >= 3.21) hands the
 * kernel one UDP_SEGMENT buffer of many datagrams: the only way a Linux sender lets USO show.
 */
export function iperf3ClientArgs(cfg: LabConfig, cell: Cell): string[] {
  return [
    "-c", cfg.network.hostAddress,
    "-p", String(cfg.iperf3.port),
    "-u",
    "-l", String(cell.payloadBytes),
    "-b", cell.bitrate,
    "-t", String(cell.durationSeconds),
    "-J",
    "--get-server-output",
    "--connect-timeout", String(CONNECT_TIMEOUT_MS),
    ...(cell.sender === "gso" ? ["--gsro"] : []),
  ];
}

/**
 * Linux guest: iperf3's JSON is the whole stdout. `timeout` ends the client in the guest
 * even when the transport that started it is gone.
 */
function linuxCellScript(cfg: LabConfig, cell: Cell): string {
  const limit = cell.durationSeconds + CELL_GRACE_SECONDS;
  return [
    `# offload-lab cell ${cell.id}`,
    `exec timeout -k 5 ${limit} ${shArgs([cfg.guest.iperf3Path, ...iperf3ClientArgs(cfg, cell)])}`,
    "",
  ].join("\n");
}

/** The guest script of one cell, in the guest's language. */
export function guestCellScript(cfg: LabConfig, cell: Cell): string {
  const hostLimit = cell.durationSeconds + CELL_GRACE_SECONDS;
  if (cfg.guest.os !== "windows") return linuxCellScript(cfg, cell);
  return cell.sender === "uso" ? windowsUsoCell(cfg, cell, hostLimit) : windowsIperf3Cell(cfg, cell, iperf3ClientArgs(cfg, cell), hostLimit);
}
