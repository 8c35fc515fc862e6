# offload-lab guest-network (Windows guest)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$adapterMac = '52-54-00-4E-4B-01'
$adapterWanted = "no network adapter with MAC $adapterMac in the guest (set guest.adapterName to name it)"
$adapter = @(Get-NetAdapter -Physical -ErrorAction SilentlyContinue | Where-Object { $_.MacAddress -eq $adapterMac })[0]
if ($null -eq $adapter) { [Console]::Error.WriteLine("guest-network: $adapterWanted"); exit 2 }
$hostAddress = '192.168.122.1'
$wantAddress = ''
$wait = 180
$waited = 0
while ($true) {
  $state = [string](Get-NetAdapter -InterfaceIndex $adapter.ifIndex).Status
  $addresses = @(Get-NetIPAddress -InterfaceIndex $adapter.ifIndex -AddressFamily IPv4 -ErrorAction SilentlyContinue |
    Where-Object { $_.AddressState -eq 'Preferred' } | ForEach-Object { "$($_.IPAddress)/$($_.PrefixLength)" })
  # Find-NetRoute returns the source address and the route; only the route says which interface.
  $route = @(Find-NetRoute -RemoteIPAddress $hostAddress -ErrorAction SilentlyContinue |
    Where-Object { $_.CimClass.CimClassName -eq 'MSFT_NetRoute' })[0]
  $missing = $null
  if ($state -ne 'Up') {
    $missing = "adapter $($adapter.Name) is $state, not Up"
  } elseif ($wantAddress -ne '' -and -not ($addresses | Where-Object { $_.StartsWith("$wantAddress/") })) {
    $missing = "adapter $($adapter.Name) has no address $wantAddress (it has: $(if ($addresses.Count) { $addresses -join ' ' } else { 'none' }))"
  } elseif ($addresses.Count -eq 0) {
    $missing = "adapter $($adapter.Name) has no IPv4 address"
  } elseif ($null -eq $route -or $route.InterfaceIndex -ne $adapter.ifIndex) {
    $missing = "no route to the host $hostAddress through adapter $($adapter.Name)"
  }
  if ($null -eq $missing) { break }
  if ($waited -ge $wait) {
    [Console]::Error.WriteLine("guest-network: after $wait s, $($missing): the matrix could not reach the iperf3 server")
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
