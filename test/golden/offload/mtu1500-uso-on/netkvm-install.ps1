# offload-lab netkvm-install (Windows guest)
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
# Windows PowerShell turns a native command's stderr into a terminating error under 'Stop'.
$ErrorActionPreference = 'Continue'
$pnputil = (& pnputil.exe /add-driver $inf /install 2>&1 | Out-String).Trim()
$code = $LASTEXITCODE
$ErrorActionPreference = 'Stop'
# 3010: installed, reboot required; 259: already the installed driver.
if ($code -ne 0 -and $code -ne 3010 -and $code -ne 259) {
  [Console]::Error.WriteLine("netkvm-install: pnputil /add-driver $inf /install exited $($code): $pnputil")
  exit 1
}
$deadline = (Get-Date).AddSeconds(120)
do {
  $adapterMac = '52-54-00-4E-4B-01'
  $adapterWanted = "no network adapter with MAC $adapterMac in the guest (set guest.adapterName to name it)"
  $adapter = @(Get-NetAdapter -Physical | Where-Object { $_.MacAddress -eq $adapterMac })[0]
  if ($null -ne $adapter -and $adapter.DriverFileName -eq 'netkvm.sys') { break }
  Start-Sleep -Seconds 1
} while ((Get-Date) -lt $deadline)
if ($null -eq $adapter -or $adapter.DriverFileName -ne 'netkvm.sys') {
  [Console]::Error.WriteLine("netkvm-install: pnputil exited $code but NetKVM does not drive the lab adapter: $(if ($null -eq $adapter) { $adapterWanted } else { "adapter $($adapter.Name) uses $($adapter.DriverFileName)" })")
  exit 1
}
$result = [ordered]@{
  inf = $inf
  windows = "$($os.Caption) (build $build)"
  pnputilExitCode = $code
  rebootRequired = ($code -eq 3010)
  pnputilOutput = $pnputil
  adapter = $adapter.Name
  driverVersion = $adapter.DriverVersion
  driverDate = $adapter.DriverDate
}
[Console]::Out.WriteLine((ConvertTo-Json -InputObject $result -Compress))
