# offload-lab guest-offloads (Windows guest, NetKVM)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$adapterMac = '52-54-00-4E-4B-01'
$adapterWanted = "no network adapter with MAC $adapterMac in the guest (set guest.adapterName to name it)"
$adapter = @(Get-NetAdapter -Physical -ErrorAction SilentlyContinue | Where-Object { $_.MacAddress -eq $adapterMac })[0]
if ($null -eq $adapter) { [Console]::Error.WriteLine("guest-offloads: $adapterWanted"); exit 2 }
function Get-AdvancedProperties {
  $byKeyword = @{}
  Get-NetAdapterAdvancedProperty -Name '*' -AllProperties | Where-Object { $_.Name -eq $adapter.Name } | ForEach-Object { $byKeyword[$_.RegistryKeyword] = $_ }
  $byKeyword
}
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
$hostAddress = '192.168.122.1'
function Get-Readiness {
  if ($null -eq $adapter) { return 'adapter absent' }
  if ([string]$adapter.Status -ne 'Up') { return "link $($adapter.Status)" }
  $address = @(Get-NetIPAddress -InterfaceIndex $adapter.ifIndex -AddressFamily IPv4 -ErrorAction SilentlyContinue | Where-Object { [string]$_.AddressState -eq 'Preferred' })[0]
  if ($null -eq $address) { return 'no preferred IPv4 address' }
  try { $reply = (New-Object System.Net.NetworkInformation.Ping).Send($hostAddress, 1000) } catch { $reply = $null }
  if ($null -eq $reply -or [string]$reply.Status -ne 'Success') { return "host $hostAddress does not answer" }
  'ready'
}

$requested = @(
  @{ Keyword = '*UsoIPv4'; Value = '0' },
  @{ Keyword = '*UsoIPv6'; Value = '0' }
)
$props = Get-AdvancedProperties
# virtio-win 0.1.190 replaced the MTU keyword (IP MTU) with *JumboPacket (frame size).
if ($props.ContainsKey('MTU') -and -not $props.ContainsKey('*JumboPacket')) {
  $requested += @{ Keyword = 'MTU'; Value = '9000' }
} else {
  $requested += @{ Keyword = '*JumboPacket'; Value = '9014' }
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
$deadline = (Get-Date).AddSeconds(120)
if ($changed) { $adapter | Restart-NetAdapter -Confirm:$false }
do {
  $adapterMac = '52-54-00-4E-4B-01'
  $adapterWanted = "no network adapter with MAC $adapterMac in the guest (set guest.adapterName to name it)"
  $adapter = @(Get-NetAdapter -Physical -ErrorAction SilentlyContinue | Where-Object { $_.MacAddress -eq $adapterMac })[0]
  $readiness = Get-Readiness
  if ($readiness -eq 'ready') { break }
  Start-Sleep -Seconds 1
} while ((Get-Date) -lt $deadline)
if ($null -eq $adapter) { [Console]::Error.WriteLine("guest-offloads: after the restart, $adapterWanted"); exit 2 }

$props = Get-AdvancedProperties
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

$config = Get-NetKvmWmi 'NetKvm_Config'
# The driver's own USO flags; 'unverified' where this build does not report them (before tag mm320).
function Get-UsoDriverFlag([string]$field) {
  if ($null -eq $config -or -not $config.Contains($field)) { return 'unverified' }
  $(if ([int]$config[$field] -ne 0) { 'on' } else { 'off' })
}
function Get-RegistryText([string]$keyword) {
  $p = $props[$keyword]
  $(if ($null -eq $p) { 'absent' } else { "$(@($p.RegistryValue) -join ',') ($($p.DisplayValue))" })
}
$usoDriver = [ordered]@{ ipv4 = Get-UsoDriverFlag 'UsoEnabledv4'; ipv6 = Get-UsoDriverFlag 'UsoEnabledv6' }
if ($usoDriver['ipv4'] -ne 'unverified' -and $usoDriver['ipv4'] -ne 'off') { $fail += "$($where): NetKvm_Config.UsoEnabledv4 requested off, actual $($usoDriver['ipv4']) while the registry says $(Get-RegistryText '*UsoIPv4')" }
if ($usoDriver['ipv6'] -ne 'unverified' -and $usoDriver['ipv6'] -ne 'off') { $fail += "$($where): NetKvm_Config.UsoEnabledv6 requested off, actual $($usoDriver['ipv6']) while the registry says $(Get-RegistryText '*UsoIPv6')" }
$ipInterface = @(Get-NetIPInterface -InterfaceIndex $adapter.ifIndex -AddressFamily IPv4 -ErrorAction SilentlyContinue)[0]
$ipMtu = $(if ($null -ne $ipInterface) { [long]$ipInterface.NlMtu } else { $null })
# The device's MTU (VIRTIO_NET_F_MTU) wins over *JumboPacket: check what the adapter really has.
$mtuWanted = '9000'
if ("$($adapter.MtuSize)" -ne $mtuWanted) { $fail += "$($where): MtuSize requested $mtuWanted, actual $(if ($null -eq $adapter.MtuSize) { 'absent' } else { $adapter.MtuSize })" }
if ("$ipMtu" -ne $mtuWanted) { $fail += "$($where): NlMtu requested $mtuWanted, actual $(if ($null -eq $ipMtu) { 'absent' } else { $ipMtu })" }

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
  netkvmConfig = $config
  netkvmDiag = Get-NetKvmWmi 'NetKvm_Diag'
}
[Console]::Out.WriteLine((ConvertTo-Json -InputObject $readBack -Depth 6 -Compress))
if ($fail.Count -gt 0) {
  [Console]::Error.WriteLine("offload settings did not take: " + ($fail -join '; '))
  exit 1
}
