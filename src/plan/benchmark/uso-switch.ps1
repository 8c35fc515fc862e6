param(
  # The lab adapter: by name, or else by MAC as Get-NetAdapter prints it (Find-LabAdapter).
  [string]$AdapterName,
  [string]$AdapterMac,
  # The host's address on the lab network: the adapter is ready again when it answers.
  [string]$HostAddress,
  # The arm: 'on' or 'off'.
  [string]$Arm,
  # Seconds to wait after the adapter restart for what the cell needs.
  [int]$LinkWaitSeconds
)
# In-lab arms, Windows guest: switches NetKVM's USO (*UsoIPv4 and *UsoIPv6) to the arm before a
# cell, with -NoRestart and then one adapter restart (only when a value changed), waits until the
# cell can run, and reads back the registry and the driver's own flags (NetKvm_Config
# UsoEnabledv4/v6, tag mm320 and later; 'unverified' on older builds, which NetKVM can leave off
# while the registry says on). Prints one JSON document; a switch that did not take (a value, a
# driver flag, or readiness) fails here with the read-back message, and the benchmark then fails
# that cell and runs the next.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$value = $(if ($Arm -eq 'on') { '1' } else { '0' })
$keywords = @('*UsoIPv4', '*UsoIPv6')

$adapter = Find-LabAdapter $AdapterName $AdapterMac
if ($null -eq $adapter) { [Console]::Error.WriteLine("uso switch: $(Get-LabAdapterWanted $AdapterName $AdapterMac)"); exit 2 }
$props = Get-AdvancedProperties $adapter
$setErrors = @()
$changed = $false
foreach ($k in $keywords) {
  $p = $props[$k]
  if ($null -eq $p -or (@($p.RegistryValue) -join ',') -eq $value) { continue }
  try {
    $p | Set-NetAdapterAdvancedProperty -RegistryValue $value -NoRestart
    $changed = $true
  } catch {
    $setErrors += "$k $($value): $($_.Exception.Message)"
  }
}
$deadline = (Get-Date).AddSeconds($LinkWaitSeconds)
if ($changed) { $adapter | Restart-NetAdapter -Confirm:$false }
# Looked up again every second: while it restarts the adapter may be briefly absent.
do {
  $adapter = Find-LabAdapter $AdapterName $AdapterMac
  $readiness = Get-Readiness $adapter $HostAddress
  if ($readiness -eq 'ready') { break }
  Start-Sleep -Seconds 1
} while ((Get-Date) -lt $deadline)
if ($null -eq $adapter) { [Console]::Error.WriteLine("uso switch: after the restart, $(Get-LabAdapterWanted $AdapterName $AdapterMac)"); exit 2 }

$where = "guest $($adapter.Name)"
$props = Get-AdvancedProperties $adapter
$config = Get-NetKvmWmi $adapter 'NetKvm_Config'
$fail = @()
$registry = [ordered]@{}
foreach ($k in $keywords) {
  $p = $props[$k]
  $registry[$k] = $(if ($null -eq $p) { $null } else { @($p.RegistryValue) -join ',' })
  if ($registry[$k] -ne $value) { $fail += "$($where): $k requested $value, actual $(if ($null -eq $registry[$k]) { 'absent' } else { $registry[$k] })" }
}
$driver = [ordered]@{ ipv4 = Get-DriverFlag $config 'UsoEnabledv4'; ipv6 = Get-DriverFlag $config 'UsoEnabledv6' }
foreach ($family in @('ipv4', 'ipv6')) {
  $got = $driver[$family]
  if ($got -ne 'unverified' -and $got -ne $Arm) { $fail += "$($where): NetKvm_Config.UsoEnabled$($family -replace 'ip', '') requested $Arm, actual $got" }
}
if ($readiness -ne 'ready') { $fail += "$($where): readiness requested ready, actual $readiness" }
$readBack = [ordered]@{
  adapter = $adapter.Name
  requested = $Arm
  restarted = $changed
  readiness = $readiness
  registry = $registry
  driver = $driver
  setErrors = $setErrors
}
[Console]::Out.WriteLine((ConvertTo-Json -InputObject $readBack -Depth 4 -Compress))
if ($fail.Count -gt 0) {
  [Console]::Error.WriteLine("USO switch did not take: " + ($fail -join '; '))
  exit 1
}
