# offload-lab guest-check (Windows guest)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$missing = @()
$adapterMac = '52-54-00-4E-4B-01'
$adapterWanted = "no network adapter with MAC $adapterMac in the guest (set guest.adapterName to name it)"
$adapter = @(Get-NetAdapter -Physical -ErrorAction SilentlyContinue | Where-Object { $_.MacAddress -eq $adapterMac })[0]
if ($null -eq $adapter) {
  $missing += $adapterWanted
} elseif ($adapter.DriverFileName -ne 'netkvm.sys') {
  $missing += "NetKVM driver on adapter $($adapter.Name) (it uses $($adapter.DriverFileName)): install it from the virtio-win ISO"
}
$iperf3 = 'C:\iperf3\iperf3.exe'
$iperf3Version = $null
if (Test-Path -LiteralPath $iperf3 -PathType Leaf) {
  # Windows PowerShell turns a native command's stderr into a terminating error under 'Stop'.
  $ErrorActionPreference = 'Continue'
  try {
    $iperf3Output = @(& $iperf3 --version 2>&1 | ForEach-Object { "$_" })
    $iperf3Exit = $LASTEXITCODE
  } catch {
    # A missing DLL stops the program from starting at all.
    $iperf3Output = @($_.Exception.Message)
    $iperf3Exit = 'none'
  }
  $ErrorActionPreference = 'Stop'
  if ($iperf3Exit -eq 0 -and $iperf3Output.Count -gt 0) {
    $iperf3Version = $iperf3Output[0]
  } else {
    $missing += "a working iperf3 at $($iperf3) (--version exit code $($iperf3Exit): $($iperf3Output -join ' '))"
  }
} else {
  $missing += "iperf3 at $iperf3 (guest.iperf3Path)"
}
$agent = Get-Service -Name 'QEMU-GA' -ErrorAction SilentlyContinue
# This script arrived through the agent, so the agent works; record its state anyway.
$os = Get-CimInstance Win32_OperatingSystem
$result = [ordered]@{
  ok = ($missing.Count -eq 0)
  missing = $missing
  windows = "$($os.Caption) (build $($os.BuildNumber))"
  adapter = $(if ($null -ne $adapter) { $adapter.Name } else { $null })
  driverFileName = $(if ($null -ne $adapter) { $adapter.DriverFileName } else { $null })
  driverVersion = $(if ($null -ne $adapter) { $adapter.DriverVersion } else { $null })
  iperf3Path = $iperf3
  iperf3Version = $iperf3Version
  agentService = $(if ($null -ne $agent) { [string]$agent.Status } else { $null })
}
[Console]::Out.WriteLine((ConvertTo-Json -InputObject $result -Compress))
if ($missing.Count -gt 0) {
  [Console]::Error.WriteLine("guest-check: the guest image lacks: " + ($missing -join '; ') + ' (see docs/windows-guest.md)')
  exit 1
}
