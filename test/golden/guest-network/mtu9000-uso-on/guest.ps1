# offload-lab guest-network (Windows guest): src/plan/guest-network/windows.ps1, with the stack's values as its parameters
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
$offloadLabParameters = @{
  AdapterName = ''
  AdapterMac = '52-54-00-4E-4B-01'
  HostAddress = '192.168.122.1'
  WantAddress = ''
  WaitSeconds = 180
}
& {
param(
  # Find-LabAdapter's: guest.adapterName ('' when unset), else the domain's MAC.
  [string]$AdapterName,
  [string]$AdapterMac,
  # The host's address, and the guest's ('' when unknown).
  [string]$HostAddress,
  [string]$WantAddress,
  [int]$WaitSeconds
)
# Waits until what the matrix needs is there: the lab adapter up, its IPv4 address (the
# configured one, when known), and a route to the host's address through that adapter.
# Prints one JSON document; exits 1 naming what is still missing when the wait runs out.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$adapter = Find-LabAdapter $AdapterName $AdapterMac
if ($null -eq $adapter) { [Console]::Error.WriteLine("guest-network: $(Get-LabAdapterWanted $AdapterName $AdapterMac)"); exit 2 }
$waited = 0
while ($true) {
  # Absent for a moment while the adapter restarts: that reads as not Up, and the wait goes on.
  $state = [string](Get-NetAdapter -InterfaceIndex $adapter.ifIndex -ErrorAction SilentlyContinue).Status
  if ($state -eq '') { $state = 'absent' }
  $addresses = @(Get-NetIPAddress -InterfaceIndex $adapter.ifIndex -AddressFamily IPv4 -ErrorAction SilentlyContinue |
    Where-Object { $_.AddressState -eq 'Preferred' } | ForEach-Object { "$($_.IPAddress)/$($_.PrefixLength)" })
  # Find-NetRoute returns the source address and the route; only the route says which interface.
  $route = @(Find-NetRoute -RemoteIPAddress $HostAddress -ErrorAction SilentlyContinue |
    Where-Object { $_.CimClass.CimClassName -eq 'MSFT_NetRoute' })[0]
  $missing = $null
  if ($state -ne 'Up') {
    $missing = "adapter $($adapter.Name) is $state, not Up"
  } elseif ($WantAddress -ne '' -and -not ($addresses | Where-Object { $_.StartsWith("$WantAddress/") })) {
    $missing = "adapter $($adapter.Name) has no address $WantAddress (it has: $(if ($addresses.Count) { $addresses -join ' ' } else { 'none' }))"
  } elseif ($addresses.Count -eq 0) {
    $missing = "adapter $($adapter.Name) has no IPv4 address"
  } elseif ($null -eq $route -or $route.InterfaceIndex -ne $adapter.ifIndex) {
    $missing = "no route to the host $HostAddress through adapter $($adapter.Name)"
  }
  if ($null -eq $missing) { break }
  if ($waited -ge $WaitSeconds) {
    [Console]::Error.WriteLine("guest-network: after $WaitSeconds s, $($missing): the matrix could not reach the iperf3 server")
    exit 1
  }
  Start-Sleep -Seconds 1
  $waited++
}
$result = [ordered]@{
  interface = $adapter.Name
  operstate = $state
  addresses = $addresses
  route = "$($route.DestinationPrefix) via $($route.NextHop) ifIndex $($route.InterfaceIndex)"
  waitedSeconds = $waited
}
[Console]::Out.WriteLine((ConvertTo-Json -InputObject $result -Compress))
} @offloadLabParameters
