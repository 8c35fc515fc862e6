# offload-lab netkvm-install (Windows guest): src/plan/netkvm-install/windows.ps1, with the stack's values as its parameters
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
  DriverWaitSeconds = 120
}
& {
param(
  # Find-LabAdapter's: guest.adapterName ('' when unset), else the domain's MAC.
  [string]$AdapterName,
  [string]$AdapterMac,
  # How long to wait for the adapter to come back with the new driver.
  [int]$DriverWaitSeconds
)
# Installs NetKVM from the virtio-win ISO attached to the domain (the drive that has a NetKVM
# folder) with pnputil, picking the folder for this Windows release, and prints the adapter's
# driver afterwards as one JSON document. When Windows must restart before the new driver
# loads (pnputil 3010) it says so and exits 3.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$os = Get-CimInstance Win32_OperatingSystem
$build = [int]$os.BuildNumber
# The ISO's folder names: client releases by name, servers by year (ProductType 1 = client).
$folder = if ($os.ProductType -eq 1) { if ($build -ge 22000) { 'w11' } else { 'w10' } }
  elseif ($build -ge 26100) { '2k25' } elseif ($build -ge 20348) { '2k22' } elseif ($build -ge 17763) { '2k19' } else { '2k16' }
$drive = @(Get-PSDrive -PSProvider FileSystem | Where-Object { Test-Path -LiteralPath (Join-Path $_.Root 'NetKVM') })[0]
if ($null -eq $drive) {
  [Console]::Error.WriteLine('netkvm-install: no drive has a NetKVM folder: attach the virtio-win ISO (guest.virtioWinIso)')
  exit 2
}
$inf = Join-Path $drive.Root "NetKVM\$folder\amd64\netkvm.inf"
if (-not (Test-Path -LiteralPath $inf)) {
  [Console]::Error.WriteLine("netkvm-install: $inf is missing: this virtio-win ISO has no NetKVM for $($os.Caption) (build $build)")
  exit 2
}
# What is installed, for the fingerprint: the INF's DriverVer (date,version: the version the
# adapter reports once the driver loads) and the ISO's volume label, which virtio-win builds
# name virtio-win-<version> (null when the label says no version).
$infVersion = $null
foreach ($line in [System.IO.File]::ReadAllLines($inf)) {
  if ($line -match '^\s*DriverVer\s*=\s*[^,]*,\s*([0-9.]+)') { $infVersion = $Matches[1]; break }
}
$isoLabel = $null
try { $isoLabel = [string](Get-Volume -DriveLetter $drive.Name -ErrorAction Stop).FileSystemLabel } catch { $isoLabel = $null }
$virtioWinVersion = $(if ($isoLabel -match 'virtio-win-([0-9][0-9.]*[0-9])') { $Matches[1] } else { $null })
# Windows PowerShell turns a native command's stderr into a terminating error under 'Stop'.
$ErrorActionPreference = 'Continue'
$pnputil = (& pnputil.exe /add-driver $inf /install 2>&1 | Out-String).Trim()
$code = $LASTEXITCODE
$ErrorActionPreference = 'Stop'
# pnputil's return values (Microsoft, "PnPUtil return values"): 3010 installed, reboot
# required; 259 no device matches this driver, or the device already has a better one.
if ($code -ne 0 -and $code -ne 3010 -and $code -ne 259) {
  [Console]::Error.WriteLine("netkvm-install: pnputil /add-driver $inf /install exited $($code): $pnputil")
  exit 1
}
$rebootRequired = ($code -eq 3010)
# After 3010 the new driver loads only after a restart, and after 259 nothing was installed:
# waiting for the adapter to change would only time out.
$deadline = $(if ($code -eq 0) { (Get-Date).AddSeconds($DriverWaitSeconds) } else { Get-Date })
do {
  $adapter = Find-LabAdapter $AdapterName $AdapterMac
  if ($null -ne $adapter -and $adapter.DriverFileName -eq 'netkvm.sys') { break }
  if ((Get-Date) -ge $deadline) { break }
  Start-Sleep -Seconds 1
} while ($true)
if (-not $rebootRequired -and ($null -eq $adapter -or $adapter.DriverFileName -ne 'netkvm.sys')) {
  $why = $(if ($code -eq 259) { 'pnputil exit 259: no device matches this netkvm.inf (or it already has a better driver)' } else { "pnputil exited $code" })
  [Console]::Error.WriteLine("netkvm-install: $why but NetKVM does not drive the lab adapter: $(if ($null -eq $adapter) { Get-LabAdapterWanted $AdapterName $AdapterMac } else { "adapter $($adapter.Name) uses $($adapter.DriverFileName)" })")
  exit 1
}
$result = [ordered]@{
  inf = $inf
  infDriverVersion = $infVersion
  isoLabel = $isoLabel
  virtioWinVersion = $virtioWinVersion
  windows = "$($os.Caption) (build $build)"
  pnputilExitCode = $code
  rebootRequired = $rebootRequired
  pnputilOutput = $pnputil
  adapter = $(if ($null -ne $adapter) { $adapter.Name } else { $null })
  driverVersion = $(if ($null -ne $adapter) { $adapter.DriverVersion } else { $null })
  driverDate = $(if ($null -ne $adapter) { $adapter.DriverDate } else { $null })
}
[Console]::Out.WriteLine((ConvertTo-Json -InputObject $result -Compress))
if ($rebootRequired) {
  [Console]::Error.WriteLine('netkvm-install: NetKVM is installed but Windows must restart before it drives the adapter (pnputil exit 3010): restart the guest and run again')
  exit 3
}
} @offloadLabParameters
