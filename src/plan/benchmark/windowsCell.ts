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
    // A comment line stays one line whatever the id holds.
    `# offload-lab cell ${cell.id.replace(/[\u0000-\u001f\u007f]/g, "")}`,
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

/**
 * NetKVM's USO MaxOffLoadSize (PARANDIS_MAX_USO_SIZE, 536 × 64 bytes, NetKVM/Common/
 * ndis56common.h) and its minimum of two segments: one send stays within what the driver
 * offers, or Windows would have to cut it up before the driver sees it.
 */
export const NETKVM_MAX_USO_BYTES = 536 * 64;

/** Datagrams per send of the USO sender for a payload. */
export function usoSegmentsPerSend(payloadBytes: number): number {
  return Math.max(2, Math.floor(NETKVM_MAX_USO_BYTES / payloadBytes));
}

/** The 8 bytes after each datagram's sequence number, so the receiver counts only the lab's. */
export const USO_DATAGRAM_MAGIC = "offlab01";

/** iperf3's bitrate notation (1G, 500M, 2.5K, 0 = unlimited) in bits per second. */
export function bitsPerSecond(bitrate: string): number {
  const m = /^([0-9.]+)([KMG]?)$/.exec(bitrate);
  if (m === null) throw new Error(`not an iperf3 bitrate: ${bitrate}`);
  return Number(m[1]) * { "": 1, K: 1e3, M: 1e6, G: 1e9 }[m[2] as "" | "K" | "M" | "G"];
}

/**
 * The `uso` sender: a .NET UDP socket with UDP_SEND_MSG_SIZE (2 at IPPROTO_UDP, ws2ipdef.h;
 * what WSASetUdpSendMessageSize sets, Windows 10 2004+) = the payload, so each send of
 * k × payload bytes leaves the stack as one USO superpacket that NetKVM (or Windows in
 * software) cuts into k datagrams. Each datagram starts with its sequence number (8 bytes,
 * big-endian) and USO_DATAGRAM_MAGIC, so the host's receiver counts loss and reordering.
 * Paced to the cell's bitrate by sleeping, not spinning, so guest CPU is the sender's own.
 * Prints one JSON document of what it sent; a socket that refuses the option fails the cell.
 */
export function windowsUsoCell(cfg: LabConfig, cell: Cell, hostLimitSeconds: number): string {
  const k = usoSegmentsPerSend(cell.payloadBytes);
  const limitMs = Math.min(cell.durationSeconds * 1000, guestDeadlineSeconds(hostLimitSeconds) * 1000);
  return countersAround(cfg, cell, [
    `$hostAddress = ${ps(cfg.network.hostAddress)}`,
    `$port = ${cfg.iperf3.port}`,
    `$size = ${cell.payloadBytes}`,
    `$segments = ${k}`,
    `$bitsPerSecond = ${bitsPerSecond(cell.bitrate)}`,
    "$sends = 0; $bytes = [long]0; $sequence = [long]0; $failure = $null",
    "$clock = [System.Diagnostics.Stopwatch]::StartNew()",
    "$socket = New-Object System.Net.Sockets.Socket ([System.Net.Sockets.AddressFamily]::InterNetwork), ([System.Net.Sockets.SocketType]::Dgram), ([System.Net.Sockets.ProtocolType]::Udp)",
    "try {",
    "  $socket.SetSocketOption([System.Net.Sockets.SocketOptionLevel]::Udp, [System.Net.Sockets.SocketOptionName]2, $size)",
    "  $socket.Connect($hostAddress, $port)",
    "  $buffer = New-Object byte[] ($size * $segments)",
    `  $magic = [System.Text.Encoding]::ASCII.GetBytes(${ps(USO_DATAGRAM_MAGIC)})`,
    "  for ($i = 0; $i -lt $segments; $i++) { [Array]::Copy($magic, 0, $buffer, $i * $size + 8, 8) }",
    `  while ($clock.ElapsedMilliseconds -lt ${limitMs}) {`,
    "    for ($i = 0; $i -lt $segments; $i++) {",
    "      [Array]::Copy([BitConverter]::GetBytes([System.Net.IPAddress]::HostToNetworkOrder($sequence + $i)), 0, $buffer, $i * $size, 8)",
    "    }",
    "    $bytes += $socket.Send($buffer)",
    "    $sends += 1",
    "    $sequence += $segments",
    "    if ($bitsPerSecond -gt 0) {",
    "      $ahead = $bytes * 8 / $bitsPerSecond - $clock.Elapsed.TotalSeconds",
    "      if ($ahead -gt 0.001) { [System.Threading.Thread]::Sleep([int]($ahead * 1000)) }",
    "    }",
    "  }",
    "} catch {",
    '  $failure = "uso sender: $($_.Exception.Message)"',
    "} finally {",
    "  $socket.Close()",
    "}",
    "$senderOut = ConvertTo-Json -Compress -InputObject ([ordered]@{",
    "  sender = 'uso'; messageSize = $size; segmentsPerSend = $segments; sends = $sends",
    "  datagrams = $sequence; bytes = $bytes; seconds = $clock.Elapsed.TotalSeconds; error = $failure",
    "})",
    "$senderErr = $(if ($null -ne $failure) { \"$failure`n\" } else { '' })",
    "$code = $(if ($null -ne $failure) { 1 } else { 0 })",
  ].join("\n"));
}
