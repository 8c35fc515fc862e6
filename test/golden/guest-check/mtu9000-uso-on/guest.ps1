# offload-lab guest-check (Windows guest): src/plan/guest-check/windows.ps1, with the stack's values as its parameters
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
  Iperf3Path = 'C:\iperf3\iperf3.exe'
  Access = 'agent'
  MinimumBuild = 19041
  NetkvmInstalledByLab = $false
}
& {
param(
  # Find-LabAdapter's: guest.adapterName ('' when unset), else the domain's MAC.
  [string]$AdapterName,
  [string]$AdapterMac,
  # guest.iperf3Path
  [string]$Iperf3Path,
  # guest.access: with 'agent' this script arrived through the agent, which so works.
  [string]$Access,
  # The oldest Windows build the stack can run on: 19041 (UDP_SEND_MSG_SIZE) for the uso
  # sender or the guest's USO, else 0.
  [int]$MinimumBuild,
  # guest.installNetkvm: netkvm-install comes next, so NetKVM missing now is not a lack.
  [bool]$NetkvmInstalledByLab
)
# The first guest step on a Windows guest (after the transport's round trip, which its host
# command runs first): checks that the base image has what the lab needs (NetKVM on the lab
# adapter, iperf3 3.2 or newer, the Windows build the stack's USO needs) and names everything
# missing at once (docs/windows-guest.md says how to add it). It records the NetKVM build the
# driver's WMI classes tell (Get-NetKvmBuild): below mm320 the driver's own USO state and
# counter cannot be read, and the offload read-back says `unverified`. Prints one JSON
# document; exits 1 when something is missing.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$missing = @()
$os = Get-CimInstance Win32_OperatingSystem
$build = [int]$os.BuildNumber
if ($build -lt $MinimumBuild) {
  $missing += "Windows build $MinimumBuild or later (Windows 10 2004 / Server 2022: UDP_SEND_MSG_SIZE, which the uso sender and USO need); this guest is build $build"
}
$adapter = Find-LabAdapter $AdapterName $AdapterMac
if ($null -eq $adapter) {
  $missing += Get-LabAdapterWanted $AdapterName $AdapterMac
} elseif ($adapter.DriverFileName -ne 'netkvm.sys') {
  if ($NetkvmInstalledByLab) {
    [Console]::Error.WriteLine("guest-check: note: adapter $($adapter.Name) uses $($adapter.DriverFileName); netkvm-install installs NetKVM next (guest.installNetkvm)")
  } else {
    $missing += "NetKVM driver on adapter $($adapter.Name) (it uses $($adapter.DriverFileName)): install it from the virtio-win ISO, or set guest.installNetkvm true"
  }
}
$netkvmBuild = Get-NetKvmBuild
$driverReadBack = $(if ($netkvmBuild -eq 'mm320+') { 'verified' } else { 'unverified' })
if ($driverReadBack -eq 'unverified') {
  [Console]::Error.WriteLine("guest-check: note: NetKVM $netkvmBuild has no NetKvm_Config.UsoEnabledv4 nor NetKvm_Diag.tx.UdpOffload (tag mm320 and later): the driver's USO state is unverified, and a uso cell's evidence comes from the tap alone")
}
$iperf3Version = $null
if (Test-Path -LiteralPath $Iperf3Path -PathType Leaf) {
  # Windows PowerShell turns a native command's stderr into a terminating error under 'Stop'.
  $ErrorActionPreference = 'Continue'
  try {
    $iperf3Output = @(& $Iperf3Path --version 2>&1 | ForEach-Object { "$_" })
    $iperf3Exit = $LASTEXITCODE
  } catch {
    # A missing DLL stops the program from starting at all.
    $iperf3Output = @($_.Exception.Message)
    $iperf3Exit = 'none'
  }
  $ErrorActionPreference = 'Stop'
  if ($iperf3Exit -eq 0 -and $iperf3Output.Count -gt 0) {
    $iperf3Version = $iperf3Output[0]
    # Every cell passes --connect-timeout, which iperf3 has from 3.2 (the much downloaded
    # Windows build 3.1.3 refuses it).
    if ($iperf3Version -match 'iperf (\d+)\.(\d+)' -and ([int]$Matches[1] -lt 3 -or ([int]$Matches[1] -eq 3 -and [int]$Matches[2] -lt 2))) {
      $missing += "iperf3 3.2 or newer at $($Iperf3Path) (every cell passes --connect-timeout, which older builds refuse); it is: $iperf3Version"
    }
  } else {
    $missing += "a working iperf3 at $($Iperf3Path) (--version exit code $($iperf3Exit): $($iperf3Output -join ' '))"
  }
} else {
  $missing += "iperf3 at $Iperf3Path (guest.iperf3Path)"
}
$agent = Get-Service -Name 'QEMU-GA' -ErrorAction SilentlyContinue
if ($Access -ne 'agent' -and $null -eq $agent) {
  [Console]::Error.WriteLine('guest-check: note: no QEMU guest agent service (not needed with guest.access ssh)')
}
$result = [ordered]@{
  ok = ($missing.Count -eq 0)
  missing = $missing
  windows = "$($os.Caption) (build $build)"
  windowsBuild = $build
  netkvmBuild = $netkvmBuild
  driverReadBack = $driverReadBack
  adapter = $(if ($null -ne $adapter) { $adapter.Name } else { $null })
  driverFileName = $(if ($null -ne $adapter) { $adapter.DriverFileName } else { $null })
  driverVersion = $(if ($null -ne $adapter) { $adapter.DriverVersion } else { $null })
  iperf3Path = $Iperf3Path
  iperf3Version = $iperf3Version
  agentService = $(if ($null -ne $agent) { [string]$agent.Status } else { $null })
}
[Console]::Out.WriteLine((ConvertTo-Json -InputObject $result -Compress))
if ($missing.Count -gt 0) {
  [Console]::Error.WriteLine("guest-check: the guest image lacks: " + ($missing -join '; ') + ' (see docs/windows-guest.md)')
  exit 1
}
} @offloadLabParameters
