import type { LabConfig } from "../../config/model";
import { NETKVM_WMI_PS } from "../offload/netkvmWmi";
import { windowsAdapterLookupPs } from "../offload/windowsAdapter";
import { ps } from "../quote";
import type { Cell } from "./cells";
import { windowsCommandLine } from "./windowsCommandLine";

/**
 * How much sooner than the host the guest ends its sender. The host's `timeout` around the
 * transport ends only the host side (the guest agent cannot kill a guest process), so the
 * guest must give up first, with room for the agent's polling and the counters read.
 */
export const GUEST_DEADLINE_MARGIN_SECONDS = 10;

/** The trailing line a Windows cell script prints after the sender's JSON. */
export const COUNTERS_MARKER = "offloadLabCounters";

/** The guest's own deadline for a cell whose host deadline is `hostLimitSeconds`. */
export function guestDeadlineSeconds(hostLimitSeconds: number): number {
  return hostLimitSeconds - GUEST_DEADLINE_MARGIN_SECONDS;
}

/**
 * The part every Windows cell shares: the lab adapter, NetKVM's `tx.UdpOffload` of that
 * adapter before and after (null where the driver lacks it), the counters as one last JSON
 * line, and UTF-8 on both streams (the loader sets them).
 */
function countersAround(cfg: LabConfig, cell: Cell, body: string): string {
  return [
    `# offload-lab cell ${cell.id}`,
    "$ErrorActionPreference = 'Stop'",
    windowsAdapterLookupPs(cfg),
    NETKVM_WMI_PS,
    "$before = $(if ($null -ne $adapter) { Get-UdpOffloadCount } else { $null })",
    body,
    "$after = $(if ($null -ne $adapter) { Get-UdpOffloadCount } else { $null })",
    "[Console]::Out.Write($senderOut)",
    `[Console]::Out.Write("\`n" + (ConvertTo-Json -Compress @{ ${COUNTERS_MARKER} = @{ udpOffloadBefore = $before; udpOffloadAfter = $after } }) + "\`n")`,
    "[Console]::Error.Write($senderErr)",
    "exit $code",
    "",
  ].join("\n");
}

/**
 * iperf3.exe with a deadline. System.Diagnostics.Process with a ProcessStartInfo, not
 * Start-Process: Windows PowerShell 5.1's Start-Process loses the exit code when the process
 * ends before its handle is taken (an immediate refusal), and with it iperf3's error JSON.
 * Both pipes are read at once, so a full stderr pipe cannot stall iperf3.
 */
export function windowsIperf3Cell(cfg: LabConfig, cell: Cell, args: readonly string[], hostLimitSeconds: number): string {
  const limitMs = guestDeadlineSeconds(hostLimitSeconds) * 1000;
  return countersAround(cfg, cell, [
    "$start = New-Object System.Diagnostics.ProcessStartInfo",
    `$start.FileName = ${ps(cfg.guest.iperf3Path)}`,
    `$start.Arguments = ${ps(windowsCommandLine(args))}`,
    "$start.UseShellExecute = $false",
    "$start.CreateNoWindow = $true",
    "$start.RedirectStandardOutput = $true",
    "$start.RedirectStandardError = $true",
    "$start.StandardOutputEncoding = New-Object System.Text.UTF8Encoding $false",
    "$start.StandardErrorEncoding = New-Object System.Text.UTF8Encoding $false",
    "$p = [System.Diagnostics.Process]::Start($start)",
    "$outTask = $p.StandardOutput.ReadToEndAsync()",
    "$errTask = $p.StandardError.ReadToEndAsync()",
    `if ($p.WaitForExit(${limitMs})) { $code = $p.ExitCode } else { try { $p.Kill() } catch { }; $p.WaitForExit(); $code = 124 }`,
    "$senderOut = $outTask.Result",
    "$senderErr = $errTask.Result",
  ].join("\n"));
}
