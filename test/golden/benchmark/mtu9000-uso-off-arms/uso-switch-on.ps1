# offload-lab benchmark (Windows guest): src/plan/benchmark/uso-switch.ps1, with the stack's values as its parameters
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
$offloadLabParameters = @{
  AdapterName = ''
  AdapterMac = '52-54-00-4E-4B-01'
  HostAddress = '192.168.122.1'
  Arm = 'on'
  LinkWaitSeconds = 120
}
& {
param(
  # The lab adapter: by name, or else by MAC as Get-NetAdapter prints it (Find-LabAdapter).
  [string]$AdapterName,
  [string]$AdapterMac,
  # The host's address on the lab network: the adapter is ready again when it answers.
  [string]$HostAddress,
  # The arm: 'on' or 'off'.
  [string]$Arm,
  # Seconds to wait after the adapter restart for what the cell needs.
  [int]$LinkWaitSeconds
)
# In-lab arms, Windows guest: switches NetKVM's USO (*UsoIPv4 and *UsoIPv6) to the arm before a
# cell, with -NoRestart and then one adapter restart (only when a value changed), waits until the
# cell can run, and reads back the registry and the driver's own flags (NetKvm_Config
# UsoEnabledv4/v6, tag mm320 and later; 'unverified' on older builds, which NetKVM can leave off
# while the registry says on). Prints one JSON document; a switch that did not take (a value, a
# driver flag, or readiness) fails here with the read-back message, and the benchmark then fails
# that cell and runs the next.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$value = $(if ($Arm -eq 'on') { '1' } else { '0' })
$keywords = @('*UsoIPv4', '*UsoIPv6')

$adapter = Find-LabAdapter $AdapterName $AdapterMac
if ($null -eq $adapter) { [Console]::Error.WriteLine("uso switch: $(Get-LabAdapterWanted $AdapterName $AdapterMac)"); exit 2 }
$props = Get-AdvancedProperties $adapter
$setErrors = @()
$changed = $false
foreach ($k in $keywords) {
  $p = $props[$k]
  if ($null -eq $p -or (@($p.RegistryValue) -join ',') -eq $value) { continue }
  try {
    $p | Set-NetAdapterAdvancedProperty -RegistryValue $value -NoRestart
    $changed = $true
  } catch {
    $setErrors += "$k $($value): $($_.Exception.Message)"
  }
}
$deadline = (Get-Date).AddSeconds($LinkWaitSeconds)
if ($changed) { $adapter | Restart-NetAdapter -Confirm:$false }
# Looked up again every second: while it restarts the adapter may be briefly absent.
do {
  $adapter = Find-LabAdapter $AdapterName $AdapterMac
  $readiness = Get-Readiness $adapter $HostAddress
  if ($readiness -eq 'ready') { break }
  Start-Sleep -Seconds 1
} while ((Get-Date) -lt $deadline)
if ($null -eq $adapter) { [Console]::Error.WriteLine("uso switch: after the restart, $(Get-LabAdapterWanted $AdapterName $AdapterMac)"); exit 2 }

$where = "guest $($adapter.Name)"
$props = Get-AdvancedProperties $adapter
$config = Get-NetKvmWmi $adapter 'NetKvm_Config'
$fail = @()
$registry = [ordered]@{}
foreach ($k in $keywords) {
  $p = $props[$k]
  $registry[$k] = $(if ($null -eq $p) { $null } else { @($p.RegistryValue) -join ',' })
  if ($registry[$k] -ne $value) { $fail += "$($where): $k requested $value, actual $(if ($null -eq $registry[$k]) { 'absent' } else { $registry[$k] })" }
}
$driver = [ordered]@{ ipv4 = Get-DriverFlag $config 'UsoEnabledv4'; ipv6 = Get-DriverFlag $config 'UsoEnabledv6' }
foreach ($family in @('ipv4', 'ipv6')) {
  $got = $driver[$family]
  if ($got -ne 'unverified' -and $got -ne $Arm) { $fail += "$($where): NetKvm_Config.UsoEnabled$($family -replace 'ip', '') requested $Arm, actual $got" }
}
if ($readiness -ne 'ready') { $fail += "$($where): readiness requested ready, actual $readiness" }
$readBack = [ordered]@{
  adapter = $adapter.Name
  requested = $Arm
  restarted = $changed
  readiness = $readiness
  registry = $registry
  driver = $driver
  setErrors = $setErrors
}
[Console]::Out.WriteLine((ConvertTo-Json -InputObject $readBack -Depth 4 -Compress))
if ($fail.Count -gt 0) {
  [Console]::Error.WriteLine("USO switch did not take: " + ($fail -join '; '))
  exit 1
}
} @offloadLabParameters
