param(
  # The lab adapter: by name, or else by MAC as Get-NetAdapter prints it (Find-LabAdapter).
  [string]$AdapterName,
  [string]$AdapterMac,
  [string]$HostAddress,
  [int]$Port,
  # The UDP payload: UDP_SEND_MSG_SIZE, and the size of each datagram.
  [int]$Size,
  # Datagrams per send, within NetKVM's USO size (windowsCell.ts).
  [int]$Segments,
  # The cell's bitrate in bit/s; 0 sends as fast as the socket takes it.
  [double]$BitsPerSecond,
  # How long to send: the cell's duration, or the guest's deadline if that is sooner.
  [long]$LimitMs,
  # The 8 ASCII bytes after each datagram's sequence number (uso-receiver.py checks them).
  [string]$Magic,
  [string]$CountersMarker
)
# The `uso` sender: a .NET UDP socket with UDP_SEND_MSG_SIZE (2 at IPPROTO_UDP, ws2ipdef.h;
# what WSASetUdpSendMessageSize sets, Windows 10 2004+) = the payload, so each send of
# Segments x Size bytes leaves the stack as one USO superpacket that NetKVM (or Windows in
# software) cuts into Segments datagrams. Each datagram starts with its sequence number (8
# bytes, big-endian) and $Magic, so the host's receiver counts loss and reordering. Paced to
# the cell's bitrate by sleeping, not spinning, so guest CPU is the sender's own. Prints one
# JSON document of what it sent; a socket that refuses the option fails the cell.
$ErrorActionPreference = 'Stop'
$adapter = Find-LabAdapter $AdapterName $AdapterMac
$before = Get-CellUdpOffloadCount $adapter
$sends = 0; $bytes = [long]0; $sequence = [long]0; $failure = $null
$clock = [System.Diagnostics.Stopwatch]::StartNew()
$socket = New-Object System.Net.Sockets.Socket ([System.Net.Sockets.AddressFamily]::InterNetwork), ([System.Net.Sockets.SocketType]::Dgram), ([System.Net.Sockets.ProtocolType]::Udp)
try {
  $socket.SetSocketOption([System.Net.Sockets.SocketOptionLevel]::Udp, [System.Net.Sockets.SocketOptionName]2, $Size)
  $socket.Connect($HostAddress, $Port)
  $buffer = New-Object byte[] ($Size * $Segments)
  $magicBytes = [System.Text.Encoding]::ASCII.GetBytes($Magic)
  for ($i = 0; $i -lt $Segments; $i++) { [Array]::Copy($magicBytes, 0, $buffer, $i * $Size + 8, $magicBytes.Length) }
  while ($clock.ElapsedMilliseconds -lt $LimitMs) {
    for ($i = 0; $i -lt $Segments; $i++) {
      [Array]::Copy([BitConverter]::GetBytes([System.Net.IPAddress]::HostToNetworkOrder($sequence + $i)), 0, $buffer, $i * $Size, 8)
    }
    $bytes += $socket.Send($buffer)
    $sends += 1
    $sequence += $Segments
    if ($BitsPerSecond -gt 0) {
      $ahead = $bytes * 8 / $BitsPerSecond - $clock.Elapsed.TotalSeconds
      if ($ahead -gt 0.001) { [System.Threading.Thread]::Sleep([int]($ahead * 1000)) }
    }
  }
} catch {
  $failure = "uso sender: $($_.Exception.Message)"
} finally {
  $socket.Close()
}
$report = ConvertTo-Json -Compress -InputObject ([ordered]@{
  sender = 'uso'; messageSize = $Size; segmentsPerSend = $Segments; sends = $sends
  datagrams = $sequence; bytes = $bytes; seconds = $clock.Elapsed.TotalSeconds; error = $failure
})
$after = Get-CellUdpOffloadCount $adapter
Write-CellOutput $report $(if ($null -ne $failure) { "$failure`n" } else { '' }) $before $after $CountersMarker
exit $(if ($null -ne $failure) { 1 } else { 0 })
