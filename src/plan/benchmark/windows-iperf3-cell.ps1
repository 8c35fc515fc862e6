param(
  # The lab adapter: by name, or else by MAC as Get-NetAdapter prints it (Find-LabAdapter).
  [string]$AdapterName,
  [string]$AdapterMac,
  [string]$Iperf3Path,
  # iperf3's arguments as one Windows command line (windowsCommandLine.ts).
  [string]$Arguments,
  # The guest's own deadline, shorter than the host's (windowsCell.ts).
  [int]$DeadlineMs,
  [string]$CountersMarker
)
# One cell of the matrix in a Windows guest: iperf3.exe with a deadline, NetKVM's UdpOffload
# counter of the lab adapter before and after. System.Diagnostics.Process with a
# ProcessStartInfo, not Start-Process: Windows PowerShell 5.1's Start-Process loses the exit
# code when the process ends before its handle is taken (an immediate refusal), and with it
# iperf3's error JSON. Both pipes are read at once, so a full stderr pipe cannot stall iperf3.
$ErrorActionPreference = 'Stop'
$adapter = Find-LabAdapter $AdapterName $AdapterMac
$before = Get-CellUdpOffloadCount $adapter
$start = New-Object System.Diagnostics.ProcessStartInfo
$start.FileName = $Iperf3Path
$start.Arguments = $Arguments
$start.UseShellExecute = $false
$start.CreateNoWindow = $true
$start.RedirectStandardOutput = $true
$start.RedirectStandardError = $true
$start.StandardOutputEncoding = New-Object System.Text.UTF8Encoding $false
$start.StandardErrorEncoding = New-Object System.Text.UTF8Encoding $false
$p = [System.Diagnostics.Process]::Start($start)
$outTask = $p.StandardOutput.ReadToEndAsync()
$errTask = $p.StandardError.ReadToEndAsync()
if ($p.WaitForExit($DeadlineMs)) { $code = $p.ExitCode } else { try { $p.Kill() } catch { }; $p.WaitForExit(); $code = 124 }
$senderOut = $outTask.Result
$senderErr = $errTask.Result
$after = Get-CellUdpOffloadCount $adapter
Write-CellOutput $senderOut $senderErr $before $after $CountersMarker
exit $code
