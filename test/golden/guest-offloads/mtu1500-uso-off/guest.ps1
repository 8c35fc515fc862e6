# offload-lab guest-offloads (Windows guest): src/plan/guest-offloads/windows.ps1, with the stack's values as its parameters
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
  Settings = @(@{ Keyword = '*UsoIPv4'; Value = '0' }, @{ Keyword = '*UsoIPv6'; Value = '0' })
  Mtu = '1500'
  JumboPacket = '1514'
  LinkWaitSeconds = 120
}
& {
param(
  # Find-LabAdapter's: guest.adapterName ('' when unset), else the domain's MAC.
  [string]$AdapterName,
  [string]$AdapterMac,
  # The host's address on the lab network: the guest is ready when it answers.
  [string]$HostAddress,
  # NetKVM advanced properties, each @{ Keyword = '*UsoIPv4'; Value = '1' }, checksums first.
  [object[]]$Settings,
  # The IP MTU (the MTU keyword of drivers before virtio-win 0.1.190, and the read-back), and
  # the frame size for *JumboPacket (MTU + 14).
  [string]$Mtu,
  [string]$JumboPacket,
  # Seconds to wait after the one adapter restart for what the matrix needs.
  [int]$LinkWaitSeconds
)
# The offload profile for a Windows guest: every NetKVM advanced property with -NoRestart,
# then one adapter restart, a wait until the matrix can run, and a read-back printed as one
# JSON document. The read-back trusts the driver over the registry for every offload it sets
# ($driverFields below): NetKVM clears LSO, checksums and USO without a word when the host
# lacks the feature, and ignores out-of-range registry values;
# and with <mtu> in the domain XML the device sets the MTU, so the adapter's MtuSize and the IP
# NlMtu are checked. A keyword this driver does not have, a value that did not stick, a driver
# flag or MTU that disagrees, or a guest that is not ready fails the step here, with the
# read-back message.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

# Where the driver itself says whether each offload it was asked for is on (not the
# registry, which NetKVM reads once and overrides without a word: no VIRTIO_NET_F_HOST_TSO4/6
# clears LSO, no VIRTIO_NET_F_CSUM clears the transmit checksums, no HOST_USO / NDIS before
# 6.83 / failover clears USO; NetKVM/Common/ParaNdis_Common.cpp). By field name, never by
# position:
# - NetKvm_Config (root\wmi, NetKVM/Common/netkvm.mof): UsoEnabledv4/v6 (tag mm320 and later,
#   from the driver's Offload.flags.fUsov4/6) and RscEnabledv4/v6 (mm268 and later, from the
#   offload configuration it reports to NDIS).
# - NDIS's copy of what NetKVM reports as its capabilities (NetKVM/wlh/ParaNdis6_Oid.cpp
#   FillOffloadStructure, from the same flags after the host's features cleared them):
#   Get-NetAdapterLso's LargeSendOffloadV2HardwareCapabilities (MaxOffloadSizeSupported is 0
#   when LSO is off) and Get-NetAdapterChecksumOffload's ChecksumOffloadHardwareCapabilities
#   (transmit and receive, per protocol). NetKvm_Config has no LSO or checksum field.
$driverFields = @{
  '*UsoIPv4' = @{ Source = 'NetKvm_Config'; Field = 'UsoEnabledv4' }
  '*UsoIPv6' = @{ Source = 'NetKvm_Config'; Field = 'UsoEnabledv6' }
  '*RscIPv4' = @{ Source = 'NetKvm_Config'; Field = 'RscEnabledv4' }
  '*RscIPv6' = @{ Source = 'NetKvm_Config'; Field = 'RscEnabledv6' }
  '*LsoV2IPv4' = @{ Source = 'LargeSendOffloadV2HardwareCapabilities'; Field = 'IPv4MaxOffloadSizeSupported' }
  '*LsoV2IPv6' = @{ Source = 'LargeSendOffloadV2HardwareCapabilities'; Field = 'IPv6MaxOffloadSizeSupported' }
  '*IPChecksumOffloadIPv4' = @{ Source = 'ChecksumOffloadHardwareCapabilities'; Tx = 'IPv4TransmitIpChecksumSupported'; Rx = 'IPv4ReceiveIpChecksumSupported' }
  '*TCPChecksumOffloadIPv4' = @{ Source = 'ChecksumOffloadHardwareCapabilities'; Tx = 'IPv4TransmitTcpChecksumSupported'; Rx = 'IPv4ReceiveTcpChecksumSupported' }
  '*TCPChecksumOffloadIPv6' = @{ Source = 'ChecksumOffloadHardwareCapabilities'; Tx = 'IPv6TransmitTcpChecksumSupported'; Rx = 'IPv6ReceiveTcpChecksumSupported' }
  '*UDPChecksumOffloadIPv4' = @{ Source = 'ChecksumOffloadHardwareCapabilities'; Tx = 'IPv4TransmitUdpChecksumSupported'; Rx = 'IPv4ReceiveUdpChecksumSupported' }
  '*UDPChecksumOffloadIPv6' = @{ Source = 'ChecksumOffloadHardwareCapabilities'; Tx = 'IPv6TransmitUdpChecksumSupported'; Rx = 'IPv6ReceiveUdpChecksumSupported' }
}
# The NetKVM registry value each driver state stands for: 0/1 for the pairs, 0 off, 1 Tx,
# 2 Rx, 3 Rx+Tx for the checksums.
function Get-WantedState($Field, [string]$Value) {
  if ($null -ne $Field.Tx) { return @('off', 'tx', 'rx', 'rxtx')[[int]$Value] }
  $(if ($Value -eq '0') { 'off' } else { 'on' })
}
# One capability of NDIS's copy, by name; $null where Windows or the driver lacks it.
function Get-CapabilityValue($Capabilities, [string]$Name) {
  if ($null -eq $Capabilities) { return $null }
  $p = $Capabilities.CimInstanceProperties[$Name]
  $(if ($null -eq $p) { $null } else { $p.Value })
}
# The driver's state for one keyword: 'on'/'off' (pairs), 'off'/'tx'/'rx'/'rxtx' (checksums),
# or 'unverified' where the build or Windows does not say.
function Get-DriverState($Field, $Config, $Lso, $Checksum) {
  if ($Field.Source -eq 'NetKvm_Config') { return Get-DriverFlag $Config $Field.Field }
  if ($Field.Source -eq 'LargeSendOffloadV2HardwareCapabilities') {
    $size = Get-CapabilityValue $Lso $Field.Field
    if ($null -eq $size) { return 'unverified' }
    return $(if ([long]$size -gt 0) { 'on' } else { 'off' })
  }
  $tx = Get-CapabilityValue $Checksum $Field.Tx
  $rx = Get-CapabilityValue $Checksum $Field.Rx
  if ($null -eq $tx -or $null -eq $rx) { return 'unverified' }
  @('off', 'tx', 'rx', 'rxtx')[([int][bool]$tx) + 2 * ([int][bool]$rx)]
}

function Get-RegistryText($Properties, [string]$Keyword) {
  $p = $Properties[$Keyword]
  $(if ($null -eq $p) { 'absent' } else { "$(@($p.RegistryValue) -join ',') ($($p.DisplayValue))" })
}

$adapter = Find-LabAdapter $AdapterName $AdapterMac
if ($null -eq $adapter) { [Console]::Error.WriteLine("guest-offloads: $(Get-LabAdapterWanted $AdapterName $AdapterMac)"); exit 2 }

$requested = @($Settings)
$props = Get-AdvancedProperties $adapter
# virtio-win 0.1.190 replaced the MTU keyword (IP MTU) with *JumboPacket (frame size).
if ($props.ContainsKey('MTU') -and -not $props.ContainsKey('*JumboPacket')) {
  $requested += @{ Keyword = 'MTU'; Value = $Mtu }
} else {
  $requested += @{ Keyword = '*JumboPacket'; Value = $JumboPacket }
}

$setErrors = @()
$changed = $false
foreach ($r in $requested) {
  $p = $props[$r.Keyword]
  if ($null -eq $p -or (@($p.RegistryValue) -join ',') -eq $r.Value) { continue }
  try {
    $p | Set-NetAdapterAdvancedProperty -RegistryValue $r.Value -NoRestart
    $changed = $true
  } catch {
    $setErrors += "$($r.Keyword) $($r.Value): $($_.Exception.Message)"
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
if ($null -eq $adapter) { [Console]::Error.WriteLine("guest-offloads: after the restart, $(Get-LabAdapterWanted $AdapterName $AdapterMac)"); exit 2 }

$props = Get-AdvancedProperties $adapter
$where = "guest $($adapter.Name)"
$fail = @()
$properties = @(foreach ($r in $requested) {
  $p = $props[$r.Keyword]
  if ($null -eq $p) {
    $fail += "$($where): $($r.Keyword) requested $($r.Value), actual absent"
    [ordered]@{ keyword = $r.Keyword; requested = $r.Value; registryValue = $null; displayValue = $null }
  } else {
    $value = @($p.RegistryValue) -join ','
    if ($value -ne $r.Value) { $fail += "$($where): $($r.Keyword) requested $($r.Value), actual $value ($($p.DisplayValue))" }
    [ordered]@{ keyword = $r.Keyword; requested = $r.Value; registryValue = $value; displayValue = [string]$p.DisplayValue }
  }
})
if ($readiness -ne 'ready') { $fail += "$($where): readiness requested ready, actual $readiness" }

$config = Get-NetKvmWmi $adapter 'NetKvm_Config'
$lsoCaps = $null
$checksumCaps = $null
try { $lsoCaps = (Get-NetAdapterLso -Name $adapter.Name -ErrorAction Stop).LargeSendOffloadV2HardwareCapabilities } catch { $lsoCaps = $null }
try { $checksumCaps = (Get-NetAdapterChecksumOffload -Name $adapter.Name -ErrorAction Stop).ChecksumOffloadHardwareCapabilities } catch { $checksumCaps = $null }
$driver = @(foreach ($r in $Settings) {
  $field = $driverFields[$r.Keyword]
  if ($null -eq $field) { continue }
  $wanted = Get-WantedState $field $r.Value
  $got = Get-DriverState $field $config $lsoCaps $checksumCaps
  $name = $(if ($null -ne $field.Tx) { "$($field.Source).$($field.Tx)/$($field.Rx)" } else { "$($field.Source).$($field.Field)" })
  if ($got -ne 'unverified' -and $got -ne $wanted) {
    $fail += "$($where): $name requested $wanted, actual $got while the registry says $(Get-RegistryText $props $r.Keyword)"
  }
  [ordered]@{ keyword = $r.Keyword; field = $name; requested = $wanted; actual = $got }
})
$usoDriver = [ordered]@{ ipv4 = Get-DriverFlag $config 'UsoEnabledv4'; ipv6 = Get-DriverFlag $config 'UsoEnabledv6' }
$ipInterface = @(Get-NetIPInterface -InterfaceIndex $adapter.ifIndex -AddressFamily IPv4 -ErrorAction SilentlyContinue)[0]
$ipMtu = $(if ($null -ne $ipInterface) { [long]$ipInterface.NlMtu } else { $null })
# The device's MTU (VIRTIO_NET_F_MTU) wins over *JumboPacket: check what the adapter really has.
if ("$($adapter.MtuSize)" -ne $Mtu) { $fail += "$($where): MtuSize requested $Mtu, actual $(if ($null -eq $adapter.MtuSize) { 'absent' } else { $adapter.MtuSize })" }
if ("$ipMtu" -ne $Mtu) { $fail += "$($where): NlMtu requested $Mtu, actual $(if ($null -eq $ipMtu) { 'absent' } else { $ipMtu })" }

$readBack = [ordered]@{
  adapter = $adapter.Name
  interfaceDescription = $adapter.InterfaceDescription
  driverFileName = $adapter.DriverFileName
  driverVersion = $adapter.DriverVersion
  driverDate = $adapter.DriverDate
  linkStatus = [string]$adapter.Status
  readiness = $readiness
  restarted = $changed
  mtuSize = $(if ($null -ne $adapter.MtuSize) { [long]$adapter.MtuSize } else { $null })
  ipMtu = $ipMtu
  properties = $properties
  setErrors = $setErrors
  usoDriver = $usoDriver
  driver = $driver
  netkvmBuild = Get-NetKvmBuild
  netkvmConfig = $config
  netkvmDiag = Get-NetKvmWmi $adapter 'NetKvm_Diag'
}
[Console]::Out.WriteLine((ConvertTo-Json -InputObject $readBack -Depth 6 -Compress))
if ($fail.Count -gt 0) {
  [Console]::Error.WriteLine("offload settings did not take: " + ($fail -join '; '))
  exit 1
}
} @offloadLabParameters
