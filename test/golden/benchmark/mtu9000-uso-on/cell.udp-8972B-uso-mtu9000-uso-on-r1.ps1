# offload-lab cell udp-8972B-uso-mtu9000-uso-on-r1
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
$hostAddress = '192.168.122.1'
$port = 12345
$size = 8972
$segments = 3
$bitsPerSecond = 1000000000
$sends = 0; $bytes = [long]0; $sequence = [long]0; $failure = $null
$clock = [System.Diagnostics.Stopwatch]::StartNew()
$socket = New-Object System.Net.Sockets.Socket ([System.Net.Sockets.AddressFamily]::InterNetwork), ([System.Net.Sockets.SocketType]::Dgram), ([System.Net.Sockets.ProtocolType]::Udp)
try {
  $socket.SetSocketOption([System.Net.Sockets.SocketOptionLevel]::Udp, [System.Net.Sockets.SocketOptionName]2, $size)
  $socket.Connect($hostAddress, $port)
  $buffer = New-Object byte[] ($size * $segments)
  $magic = [System.Text.Encoding]::ASCII.GetBytes('offlab01')
  for ($i = 0; $i -lt $segments; $i++) { [Array]::Copy($magic, 0, $buffer, $i * $size + 8, 8) }
  while ($clock.ElapsedMilliseconds -lt 10000) {
    for ($i = 0; $i -lt $segments; $i++) {
      [Array]::Copy([BitConverter]::GetBytes([System.Net.IPAddress]::HostToNetworkOrder($sequence + $i)), 0, $buffer, $i * $size, 8)
    }
    $bytes += $socket.Send($buffer)
    $sends += 1
    $sequence += $segments
    if ($bitsPerSecond -gt 0) {
      $ahead = $bytes * 8 / $bitsPerSecond - $clock.Elapsed.TotalSeconds
      if ($ahead -gt 0.001) { [System.Threading.Thread]::Sleep([int]($ahead * 1000)) }
    }
  }
} catch {
  $failure = "uso sender: $($_.Exception.Message)"
} finally {
  $socket.Close()
}
$senderOut = ConvertTo-Json -Compress -InputObject ([ordered]@{
  sender = 'uso'; messageSize = $size; segmentsPerSend = $segments; sends = $sends
  datagrams = $sequence; bytes = $bytes; seconds = $clock.Elapsed.TotalSeconds; error = $failure
})
$senderErr = $(if ($null -ne $failure) { "$failure`n" } else { '' })
$code = $(if ($null -ne $failure) { 1 } else { 0 })
$after = $(if ($null -ne $adapter) { Get-UdpOffloadCount } else { $null })
[Console]::Out.Write($senderOut)
[Console]::Out.Write("`n" + (ConvertTo-Json -Compress @{ offloadLabCounters = @{ udpOffloadBefore = $before; udpOffloadAfter = $after } }) + "`n")
[Console]::Error.Write($senderErr)
exit $code
