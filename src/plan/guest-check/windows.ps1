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
