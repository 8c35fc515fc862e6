# offload-lab cell udp-8972B-plain-mtu9000-uso-off-r1
$ErrorActionPreference = 'Stop'
$adapterMac = '52-54-00-4E-4B-01'
$adapterWanted = "no network adapter with MAC $adapterMac in the guest (set guest.adapterName to name it)"
$adapter = @(Get-NetAdapter -Physical -ErrorAction SilentlyContinue | Where-Object { $_.MacAddress -eq $adapterMac })[0]
function ConvertFrom-CimValue($value) {
  if ($value -is [Microsoft.Management.Infrastructure.CimInstance]) {
    $flat = [ordered]@{}
    foreach ($p in $value.CimInstanceProperties) { $flat[$p.Name] = ConvertFrom-CimValue $p.Value }
    return $flat
  }
  return $value
}
function Get-NetKvmWmi([string]$class) {
  try { $all = @(Get-CimInstance -Namespace 'root\wmi' -ClassName $class -ErrorAction Stop) } catch { return $null }
  $mine = @($all | Where-Object { $_.InstanceName -eq $adapter.InterfaceDescription })
  if ($mine.Count -eq 0) { return $null }
  $values = [ordered]@{}
  foreach ($p in $mine[0].CimInstanceProperties) {
    if ($p.Name -ne 'InstanceName' -and $p.Name -ne 'Active') { $values[$p.Name] = ConvertFrom-CimValue $p.Value }
  }
  $values
}
function Get-UdpOffloadCount {
  $diag = Get-NetKvmWmi 'NetKvm_Diag'
  if ($null -eq $diag -or $null -eq $diag['tx'] -or -not $diag['tx'].Contains('UdpOffload')) { return $null }
  [long]$diag['tx']['UdpOffload']
}
$before = $(if ($null -ne $adapter) { Get-UdpOffloadCount } else { $null })
$start = New-Object System.Diagnostics.ProcessStartInfo
$start.FileName = 'C:\iperf3\iperf3.exe'
$start.Arguments = '-c 192.168.122.1 -p 12345 -u -l 8972 -b 1G -t 10 -J --get-server-output --connect-timeout 5000'
$start.UseShellExecute = $false
$start.CreateNoWindow = $true
$start.RedirectStandardOutput = $true
$start.RedirectStandardError = $true
$start.StandardOutputEncoding = New-Object System.Text.UTF8Encoding $false
$start.StandardErrorEncoding = New-Object System.Text.UTF8Encoding $false
$p = [System.Diagnostics.Process]::Start($start)
$outTask = $p.StandardOutput.ReadToEndAsync()
$errTask = $p.StandardError.ReadToEndAsync()
if ($p.WaitForExit(30000)) { $code = $p.ExitCode } else { try { $p.Kill() } catch { }; $p.WaitForExit(); $code = 124 }
$senderOut = $outTask.Result
$senderErr = $errTask.Result
$after = $(if ($null -ne $adapter) { Get-UdpOffloadCount } else { $null })
[Console]::Out.Write($senderOut)
[Console]::Out.Write("`n" + (ConvertTo-Json -Compress @{ offloadLabCounters = @{ udpOffloadBefore = $before; udpOffloadAfter = $after } }) + "`n")
[Console]::Error.Write($senderErr)
exit $code
