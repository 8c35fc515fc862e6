import type { LabConfig } from "../../config/model";
import type { Cell } from "../../results/cell";
import { sh } from "../quote";
import { windowsIperf3Cell, windowsUsoCell } from "./windowsCell";

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
 *
 * Generated, not a file with a preamble: the cell is one command, an argv with every word
 * quoted by sh (so exactly the words iperf3ClientArgs gives, whatever a value holds). A
 * file would need guestShScript's preamble, which also carries the guest's JSON functions
 * (guest-lib.sh) that this command never calls, in every cell the loop sends. The tests run
 * shellcheck (sh) over it and run it under sh with a hostile iperf3 path.
 */
function linuxCellScript(cfg: LabConfig, cell: Cell): string {
  const limit = cell.durationSeconds + CELL_GRACE_SECONDS;
  const argv = [cfg.guest.iperf3Path, ...iperf3ClientArgs(cfg, cell)];
  return [
    // A comment line stays one line whatever the id holds.
    `# offload-lab cell ${cell.id.replace(/[\u0000-\u001f\u007f]/g, "")}`,
    `exec timeout -k 5 ${limit} ${argv.map(sh).join(" ")}`,
    "",
  ].join("\n");
}

/** The guest script of one cell, in the guest's language. */
export function guestCellScript(cfg: LabConfig, cell: Cell): string {
  const hostLimit = cell.durationSeconds + CELL_GRACE_SECONDS;
  if (cfg.guest.os !== "windows") return linuxCellScript(cfg, cell);
  return cell.sender === "uso" ? windowsUsoCell(cfg, cell, hostLimit) : windowsIperf3Cell(cfg, iperf3ClientArgs(cfg, cell), hostLimit);
}
