# What every Windows cell shares (windows-iperf3-cell.ps1, windows-uso-cell.ps1), after the lab's
# adapter and NetKVM libraries (src/plan/guest/windows-adapter.ps1, netkvm-wmi.ps1).
#
# Get-CellUdpOffloadCount ADAPTER: NetKVM's tx.UdpOffload of the lab adapter, $null when the
# adapter is absent or its driver lacks the counter.
#
# Write-CellOutput: what the host's parser reads (src/plan/benchmark/output.ts): the sender's
# stdout, then the counters as the last line, one JSON object under $CountersMarker; the
# sender's stderr on stderr. The loader writes both streams as UTF-8.
function Get-CellUdpOffloadCount($Adapter) {
  if ($null -eq $Adapter) { return $null }
  Get-UdpOffloadCount $Adapter
}
function Write-CellOutput([string]$SenderOut, [string]$SenderErr, $Before, $After, [string]$CountersMarker) {
  $counters = @{ $CountersMarker = @{ udpOffloadBefore = $Before; udpOffloadAfter = $After } }
  [Console]::Out.Write($SenderOut)
  [Console]::Out.Write("`n" + (ConvertTo-Json -Compress $counters) + "`n")
  [Console]::Error.Write($SenderErr)
}
