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
# bytes, big-endian), $Magic, and when it has room the send's time (8 bytes, big-endian
# microseconds of this sender's clock), so the host's receiver counts loss, reordering and
# jitter.
#
# Pacing: Thread.Sleep rounds up to the timer tick (about 15.6 ms), which at 1 Gbit/s would
# send bursts of about 2 MB and make the receiver's loss the measurement's own. The sender
# waits on a high-resolution waitable timer (CreateWaitableTimerExW with
# CREATE_WAITABLE_TIMER_HIGH_RESOLUTION, Windows 10 1803+) whenever it is more than 1 ms
# ahead, so a burst is at most 1 ms of the bitrate; where Windows lacks that timer it spins on
# the Stopwatch (and says so: a spin is CPU time the report then includes). Its CPU is the
# process's TotalProcessorTime over the sending, as iperf3 reports its own.
# Prints one JSON document of what it sent; a socket that refuses the option fails the cell.
$ErrorActionPreference = 'Stop'
$adapter = Find-LabAdapter $AdapterName $AdapterMac
$before = Get-CellUdpOffloadCount $adapter
$sends = 0; $bytes = [long]0; $sequence = [long]0; $failure = $null
$timer = [IntPtr]::Zero
$pacing = 'none'
if ($BitsPerSecond -gt 0) {
  Add-Type -Namespace OffloadLab -Name WaitableTimer -MemberDefinition @'
[DllImport("kernel32.dll", SetLastError = true)]
public static extern IntPtr CreateWaitableTimerExW(IntPtr attributes, IntPtr name, uint flags, uint access);
[DllImport("kernel32.dll", SetLastError = true)]
public static extern bool SetWaitableTimer(IntPtr timer, ref long dueTime, int period, IntPtr routine, IntPtr argument, bool resume);
[DllImport("kernel32.dll", SetLastError = true)]
public static extern uint WaitForSingleObject(IntPtr handle, uint milliseconds);
[DllImport("kernel32.dll")]
public static extern bool CloseHandle(IntPtr handle);
'@
  # 2 = CREATE_WAITABLE_TIMER_HIGH_RESOLUTION, 0x1F0003 = TIMER_ALL_ACCESS (synchapi.h).
  $timer = [OffloadLab.WaitableTimer]::CreateWaitableTimerExW([IntPtr]::Zero, [IntPtr]::Zero, 2, 0x1F0003)
  $pacing = $(if ($timer -ne [IntPtr]::Zero) { 'high-resolution-timer' } else { 'spin' })
}
$self = [System.Diagnostics.Process]::GetCurrentProcess()
$socket = New-Object System.Net.Sockets.Socket ([System.Net.Sockets.AddressFamily]::InterNetwork), ([System.Net.Sockets.SocketType]::Dgram), ([System.Net.Sockets.ProtocolType]::Udp)
$clock = [System.Diagnostics.Stopwatch]::StartNew()
$cpuStart = $self.TotalProcessorTime
try {
  $socket.SetSocketOption([System.Net.Sockets.SocketOptionLevel]::Udp, [System.Net.Sockets.SocketOptionName]2, $Size)
  $socket.Connect($HostAddress, $Port)
  $buffer = New-Object byte[] ($Size * $Segments)
  $magicBytes = [System.Text.Encoding]::ASCII.GetBytes($Magic)
  $stamped = ($Size -ge 8 + $magicBytes.Length + 8)
  for ($i = 0; $i -lt $Segments; $i++) { [Array]::Copy($magicBytes, 0, $buffer, $i * $Size + 8, $magicBytes.Length) }
  $ticksPerMicrosecond = [System.Diagnostics.Stopwatch]::Frequency / 1e6
  while ($clock.ElapsedMilliseconds -lt $LimitMs) {
    $now = [BitConverter]::GetBytes([System.Net.IPAddress]::HostToNetworkOrder([long]($clock.ElapsedTicks / $ticksPerMicrosecond)))
    for ($i = 0; $i -lt $Segments; $i++) {
      [Array]::Copy([BitConverter]::GetBytes([System.Net.IPAddress]::HostToNetworkOrder($sequence + $i)), 0, $buffer, $i * $Size, 8)
      if ($stamped) { [Array]::Copy($now, 0, $buffer, $i * $Size + 8 + $magicBytes.Length, 8) }
    }
    $bytes += $socket.Send($buffer)
    $sends += 1
    $sequence += $Segments
    if ($BitsPerSecond -gt 0) {
      # When the bytes sent so far are due at the bitrate; wait only when more than 1 ms ahead.
      $due = $bytes * 8 / $BitsPerSecond
      $ahead = $due - $clock.Elapsed.TotalSeconds
      if ($ahead -gt 0.001) {
        if ($timer -ne [IntPtr]::Zero) {
          # A negative due time is relative, in 100 ns units.
          $relative = [long](-$ahead * 1e7)
          [void][OffloadLab.WaitableTimer]::SetWaitableTimer($timer, [ref]$relative, 0, [IntPtr]::Zero, [IntPtr]::Zero, $false)
          [void][OffloadLab.WaitableTimer]::WaitForSingleObject($timer, 1000)
        } else {
          while ($clock.Elapsed.TotalSeconds -lt $due) { }
        }
      }
    }
  }
} catch {
  $failure = "uso sender: $($_.Exception.Message)"
} finally {
  $socket.Close()
  if ($timer -ne [IntPtr]::Zero) { [void][OffloadLab.WaitableTimer]::CloseHandle($timer) }
}
$seconds = $clock.Elapsed.TotalSeconds
$self.Refresh()
$cpuSeconds = ($self.TotalProcessorTime - $cpuStart).TotalSeconds
$report = ConvertTo-Json -Compress -InputObject ([ordered]@{
  sender = 'uso'; messageSize = $Size; segmentsPerSend = $Segments; sends = $sends
  datagrams = $sequence; bytes = $bytes; seconds = $seconds; cpuSeconds = $cpuSeconds; pacing = $pacing; error = $failure
})
$after = Get-CellUdpOffloadCount $adapter
Write-CellOutput $report $(if ($null -ne $failure) { "$failure`n" } else { '' }) $before $after $CountersMarker
exit $(if ($null -ne $failure) { 1 } else { 0 })
