# offload-lab benchmark (Windows guest): src/plan/benchmark/windows-uso-cell.ps1, with the stack's values as its parameters
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
  HostAddress = '192.168.122.1'
  Port = 12345
  Size = 1472
  Segments = 23
  BitsPerSecond = 1000000000
  LimitMs = 10000
  Magic = 'offlab01'
}
& {
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
} @offloadLabParameters
