# offload-lab benchmark (Windows guest): src/plan/benchmark/windows-iperf3-cell.ps1, with the stack's values as its parameters
# The lab's NetKVM adapter in a Windows guest, for every Windows script of the lab.
#
# Find-LabAdapter: the adapter named $Name (guest.adapterName), or else the physical adapter
# with the domain's MAC ($Mac as Get-NetAdapter prints it: upper case with '-'); $null when
# absent. The name is compared with -eq on the property, never passed to -Name, so wildcard
# characters in it mean nothing. -ErrorAction SilentlyContinue: while an adapter restarts it
# can be briefly absent, and a lookup that finds nothing must return $null, not end the script.
function Find-LabAdapter([string]$Name, [string]$Mac) {
  if ($Name -ne '') {
    return @(Get-NetAdapter -ErrorAction SilentlyContinue | Where-Object { $_.Name -eq $Name })[0]
  }
  @(Get-NetAdapter -Physical -ErrorAction SilentlyContinue | Where-Object { $_.MacAddress -eq $Mac })[0]
}
# What Find-LabAdapter looked for, for the message when it finds nothing.
function Get-LabAdapterWanted([string]$Name, [string]$Mac) {
  if ($Name -ne '') { return "no network adapter named '$Name' in the guest (guest.adapterName)" }
  "no network adapter with MAC $Mac in the guest (set guest.adapterName to name it)"
}
# Every advanced property of $Adapter, hidden ones included, keyed by registry keyword.
function Get-AdvancedProperties($Adapter) {
  $byKeyword = @{}
  Get-NetAdapterAdvancedProperty -Name '*' -AllProperties | Where-Object { $_.Name -eq $Adapter.Name } | ForEach-Object { $byKeyword[$_.RegistryKeyword] = $_ }
  $byKeyword
}
# Get-Readiness ADAPTER HOST: 'ready' when the matrix can run after an adapter restart — not only
# link Up but a preferred IPv4 address (DHCP done, duplicate address detection over) and the
# host answering — else what is still missing.
function Get-Readiness($Adapter, [string]$HostAddress) {
  if ($null -eq $Adapter) { return 'adapter absent' }
  if ([string]$Adapter.Status -ne 'Up') { return "link $($Adapter.Status)" }
  $address = @(Get-NetIPAddress -InterfaceIndex $Adapter.ifIndex -AddressFamily IPv4 -ErrorAction SilentlyContinue | Where-Object { [string]$_.AddressState -eq 'Preferred' })[0]
  if ($null -eq $address) { return 'no preferred IPv4 address' }
  try { $reply = (New-Object System.Net.NetworkInformation.Ping).Send($HostAddress, 1000) } catch { $reply = $null }
  if ($null -eq $reply -or [string]$reply.Status -ne 'Success') { return "host $HostAddress does not answer" }
  'ready'
}
# NetKVM's own WMI classes (root\wmi, NetKVM/Common/netkvm.mof in
# virtio-win/kvm-guest-drivers-windows), for one adapter.
#
# Get-NetKvmWmi ADAPTER CLASS: the instance whose InstanceName is the adapter's
# InterfaceDescription (NDIS names its WMI instances so; another NetKVM adapter has its own),
# flattened to name → value with embedded instances (NetKvm_Diag.tx, a NetKvm_Tx) flattened
# the same way, so ConvertTo-Json prints values and not CIM metadata. $null when the driver
# does not register the class (builds before tag mm268) or has no instance for this adapter.
#
# Get-UdpOffloadCount ADAPTER: NetKvm_Diag.tx.UdpOffload, USO packets the driver handed to the
# device, or $null where the build lacks the field (before tag mm320, commit 552b439b).
#
# Get-NetKvmBuild: which NetKVM the guest runs, told by the WMI classes its driver registers
# (the driver version, 100.x.y.z, encodes the virtio-win build, not the repository tag, and no
# table maps one to the other): 'mm320+' when NetKvm_Config has UsoEnabledv4 (commit 552b439b,
# tag mm320: the driver's own USO flags and NetKvm_Diag.tx.UdpOffload), 'mm268-mm319' when the
# class exists without it (commit 634e6b46), 'before-mm268' when there is no NetKvm_Config.
#
# Get-DriverFlag CONFIG FIELD: 'on', 'off', or 'unverified' where the build lacks the field.
# NetKVM fills UsoEnabledv4/v6 from signed 1-bit fields (int fUsov4 : 1 in ndis56common.h),
# so "on" reads -1: any value other than 0 is on.
function ConvertFrom-CimValue($Value) {
  if ($Value -is [Microsoft.Management.Infrastructure.CimInstance]) {
    $flat = [ordered]@{}
    foreach ($p in $Value.CimInstanceProperties) { $flat[$p.Name] = ConvertFrom-CimValue $p.Value }
    return $flat
  }
  return $Value
}
function Get-NetKvmWmi($Adapter, [string]$Class) {
  try { $all = @(Get-CimInstance -Namespace 'root\wmi' -ClassName $Class -ErrorAction Stop) } catch { return $null }
  $mine = @($all | Where-Object { $_.InstanceName -eq $Adapter.InterfaceDescription })
  if ($mine.Count -eq 0) { return $null }
  $values = [ordered]@{}
  foreach ($p in $mine[0].CimInstanceProperties) {
    if ($p.Name -ne 'InstanceName' -and $p.Name -ne 'Active') { $values[$p.Name] = ConvertFrom-CimValue $p.Value }
  }
  $values
}
function Get-NetKvmBuild {
  try { $class = Get-CimClass -Namespace 'root\wmi' -ClassName 'NetKvm_Config' -ErrorAction Stop } catch { return 'before-mm268' }
  if (@($class.CimClassProperties | Where-Object { $_.Name -eq 'UsoEnabledv4' }).Count -gt 0) { return 'mm320+' }
  'mm268-mm319'
}
function Get-DriverFlag($Config, [string]$Field) {
  if ($null -eq $Config -or -not $Config.Contains($Field) -or $null -eq $Config[$Field]) { return 'unverified' }
  $(if ([long]$Config[$Field] -ne 0) { 'on' } else { 'off' })
}
function Get-UdpOffloadCount($Adapter) {
  $diag = Get-NetKvmWmi $Adapter 'NetKvm_Diag'
  if ($null -eq $diag -or $null -eq $diag['tx'] -or -not $diag['tx'].Contains('UdpOffload')) { return $null }
  [long]$diag['tx']['UdpOffload']
}
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
$offloadLabParameters = @{
  AdapterName = ''
  AdapterMac = '52-54-00-4E-4B-01'
  CountersMarker = 'offloadLabCounters'
  Iperf3Path = 'C:\iperf3\iperf3.exe'
  Arguments = '-c 192.168.122.1 -p 12345 -u -l 1472 -b 1G -t 10 -J --get-server-output --connect-timeout 5000'
  DeadlineMs = 30000
}
& {
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
} @offloadLabParameters
