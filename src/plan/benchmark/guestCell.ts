import type { LabConfig } from "../../config/model";
import { ps, shArgs } from "../quote";
import type { Cell } from "./cells";

/** iperf3's own bound on reaching a dead or firewalled server. */
export const CONNECT_TIMEOUT_MS = 5000;
/** Seconds a cell may run past its duration (connect, result exchange) before it is killed. */
export const CELL_GRACE_SECONDS = 30;

/** The trailing line a guest cell script may print after the iperf3 JSON. */
export const COUNTERS_MARKER = "offloadLabCounters";

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

/**
 * Windows guest: iperf3.exe runs with a deadline, and the NetKVM UdpOffload counter is read
 * before and after where the driver exposes NetKvm_Diag (older NetKVM builds do not: null).
 * The counters follow the iperf3 JSON as one last JSON line.
 */
function windowsCellScript(cfg: LabConfig, cell: Cell): string {
  const limitMs = (cell.durationSeconds + CELL_GRACE_SECONDS) * 1000;
  const args = iperf3ClientArgs(cfg, cell).map(ps).join(", ");
  return [
    `# offload-lab cell ${cell.id}`,
    "$ErrorActionPreference = 'Stop'",
    "function Get-UdpOffload {",
    "  try {",
    "    $diag = Get-CimInstance -Namespace 'root\\wmi' -ClassName 'NetKvm_Diag' -ErrorAction Stop | Select-Object -First 1",
    "    if ($null -ne $diag -and $null -ne $diag.PSObject.Properties['UdpOffload']) { return [long]$diag.UdpOffload }",
    "  } catch { }",
    "  return $null",
    "}",
    "$before = Get-UdpOffload",
    "$out = [System.IO.Path]::GetTempFileName()",
    "$err = [System.IO.Path]::GetTempFileName()",
    `$p = Start-Process -FilePath ${ps(cfg.guest.iperf3Path)} -ArgumentList @(${args}) -NoNewWindow -PassThru -RedirectStandardOutput $out -RedirectStandardError $err`,
    "# Reading Handle now keeps ExitCode available after the process ends (a .NET quirk).",
    "$null = $p.Handle",
    `if (-not $p.WaitForExit(${limitMs})) { $p.Kill(); $p.WaitForExit(); $code = 124 } else { $code = $p.ExitCode }`,
    "$after = Get-UdpOffload",
    "[Console]::Out.Write((Get-Content -Raw -LiteralPath $out))",
    `[Console]::Out.Write("\`n" + (ConvertTo-Json -Compress @{ ${COUNTERS_MARKER} = @{ udpOffloadBefore = $before; udpOffloadAfter = $after } }) + "\`n")`,
    "[Console]::Error.Write((Get-Content -Raw -LiteralPath $err))",
    "Remove-Item -LiteralPath $out, $err -ErrorAction SilentlyContinue",
    "exit $code",
    "",
  ].join("\n");
}

/** The guest script of one cell, in the guest's language. */
export function guestCellScript(cfg: LabConfig, cell: Cell): string {
  return cfg.guest.os === "windows" ? windowsCellScript(cfg, cell) : linuxCellScript(cfg, cell);
}
