import type { LabConfig } from "../../config/model";
import { ps } from "../quote";
import { NETKVM_WMI_PS } from "./netkvmWmi";
import { netkvmRequest } from "./request";
import { ADVANCED_PROPERTIES_PS, windowsAdapterLookupPs, windowsAdapterPs } from "./windowsAdapter";

/** Seconds the script waits after the one adapter restart for what the matrix needs. */
export const LINK_WAIT_SECONDS = 120;

/** The NetKVM keyword of each USO family and the NetKvm_Config field with the driver's own flag. */
export const USO_DRIVER_FIELDS = [
  { family: "ipv4", keyword: "*UsoIPv4", field: "UsoEnabledv4" },
  { family: "ipv6", keyword: "*UsoIPv6", field: "UsoEnabledv6" },
] as const;

/**
 * Waits for what the matrix needs after a restart, not only link `Up`: a preferred IPv4
 * address (DHCP done, duplicate address detection over) and the host answering. `$adapter`
 * is looked up again every second; while it restarts it may be briefly absent.
 */
function readinessPs(cfg: LabConfig): string {
  return `$hostAddress = ${ps(cfg.network.hostAddress)}
function Get-Readiness {
  if ($null -eq $adapter) { return 'adapter absent' }
  if ([string]$adapter.Status -ne 'Up') { return "link $($adapter.Status)" }
  $address = @(Get-NetIPAddress -InterfaceIndex $adapter.ifIndex -AddressFamily IPv4 -ErrorAction SilentlyContinue | Where-Object { [string]$_.AddressState -eq 'Preferred' })[0]
  if ($null -eq $address) { return 'no preferred IPv4 address' }
  try { $reply = (New-Object System.Net.NetworkInformation.Ping).Send($hostAddress, 1000) } catch { $reply = $null }
  if ($null -eq $reply -or [string]$reply.Status -ne 'Success') { return "host $hostAddress does not answer" }
  'ready'
}`;
}

/**
 * The offload profile for a Windows guest as one PowerShell script: every NetKVM advanced
 * property with `-NoRestart`, then one adapter restart, a wait until the matrix can run, and
 * a read-back printed as one JSON document (parsed by src/results/netkvm.ts). The read-back
 * trusts the driver over the registry: NetKVM clears USO without a word (NDIS before 6.83,
 * failover, no VIRTIO_NET_F_HOST_USO) and ignores out-of-range registry values, so its own
 * NetKvm_Config.UsoEnabledv4/v6 decide where the driver has them; and with `<mtu>` in the
 * domain XML the device sets the MTU, so the adapter's MtuSize and the IP NlMtu are checked.
 * A keyword this driver does not have, a value that did not stick, a driver flag or MTU that
 * disagrees, or a guest that is not ready fails the script with the message the pure
 * comparison gives.
 */
export function windowsOffloadScript(cfg: LabConfig): string {
  const req = netkvmRequest(cfg.offloads);
  const settings = req.settings
    .map((s) => `  @{ Keyword = ${ps(s.keyword)}; Value = ${ps(s.value)} }`)
    .join(",\n");
  const usoChecks = USO_DRIVER_FIELDS.flatMap((u) => {
    const wanted = req.settings.find((s) => s.keyword === u.keyword);
    if (wanted === undefined) return [];
    const state = wanted.value === "1" ? "on" : "off";
    const got = `$usoDriver[${ps(u.family)}]`;
    return [
      `if (${got} -ne 'unverified' -and ${got} -ne ${ps(state)}) { $fail += "$($where): NetKvm_Config.${u.field} requested ${state}, actual $(${got}) while the registry says $(Get-RegistryText ${ps(u.keyword)})" }`,
    ];
  }).join("\n");
  return `# offload-lab guest-offloads (Windows guest, NetKVM)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
${windowsAdapterPs(cfg, "guest-offloads")}
${ADVANCED_PROPERTIES_PS}
${NETKVM_WMI_PS}
${readinessPs(cfg)}

$requested = @(
${settings}
)
$props = Get-AdvancedProperties
# virtio-win 0.1.190 replaced the MTU keyword (IP MTU) with *JumboPacket (frame size).
if ($props.ContainsKey('MTU') -and -not $props.ContainsKey('*JumboPacket')) {
  $requested += @{ Keyword = 'MTU'; Value = ${ps(String(req.mtu))} }
} else {
  $requested += @{ Keyword = '*JumboPacket'; Value = ${ps(String(req.jumboPacket))} }
}

$setErrors = @()
$changed = $false
foreach ($r in $requested) {
  $p = $props[$r.Keyword]
  if ($null -eq $p -or (@($p.RegistryValue) -join ',') -eq $r.Value) { continue }
  try {
    $p | Set-NetAdapterAdvancedProperty -RegistryValue $r.Value -NoRestart
    $changed = $true
  } catch {
    $setErrors += "$($r.Keyword) $($r.Value): $($_.Exception.Message)"
  }
}
$deadline = (Get-Date).AddSeconds(${LINK_WAIT_SECONDS})
if ($changed) { $adapter | Restart-NetAdapter -Confirm:$false }
do {
${windowsAdapterLookupPs(cfg, "  ")}
  $readiness = Get-Readiness
  if ($readiness -eq 'ready') { break }
  Start-Sleep -Seconds 1
} while ((Get-Date) -lt $deadline)
if ($null -eq $adapter) { [Console]::Error.WriteLine("guest-offloads: after the restart, $adapterWanted"); exit 2 }

$props = Get-AdvancedProperties
$where = "guest $($adapter.Name)"
$fail = @()
$properties = @(foreach ($r in $requested) {
  $p = $props[$r.Keyword]
  if ($null -eq $p) {
    $fail += "$($where): $($r.Keyword) requested $($r.Value), actual absent"
    [ordered]@{ keyword = $r.Keyword; requested = $r.Value; registryValue = $null; displayValue = $null }
  } else {
    $value = @($p.RegistryValue) -join ','
    if ($value -ne $r.Value) { $fail += "$($where): $($r.Keyword) requested $($r.Value), actual $value ($($p.DisplayValue))" }
    [ordered]@{ keyword = $r.Keyword; requested = $r.Value; registryValue = $value; displayValue = [string]$p.DisplayValue }
  }
})
if ($readiness -ne 'ready') { $fail += "$($where): readiness requested ready, actual $readiness" }

$config = Get-NetKvmWmi 'NetKvm_Config'
# The driver's own USO flags; 'unverified' where this build does not report them (before tag mm320).
function Get-UsoDriverFlag([string]$field) {
  if ($null -eq $config -or -not $config.Contains($field)) { return 'unverified' }
  $(if ([int]$config[$field] -ne 0) { 'on' } else { 'off' })
}
function Get-RegistryText([string]$keyword) {
  $p = $props[$keyword]
  $(if ($null -eq $p) { 'absent' } else { "$(@($p.RegistryValue) -join ',') ($($p.DisplayValue))" })
}
$usoDriver = [ordered]@{ ipv4 = Get-UsoDriverFlag 'UsoEnabledv4'; ipv6 = Get-UsoDriverFlag 'UsoEnabledv6' }
${usoChecks}
$ipInterface = @(Get-NetIPInterface -InterfaceIndex $adapter.ifIndex -AddressFamily IPv4 -ErrorAction SilentlyContinue)[0]
$ipMtu = $(if ($null -ne $ipInterface) { [long]$ipInterface.NlMtu } else { $null })
# The device's MTU (VIRTIO_NET_F_MTU) wins over *JumboPacket: check what the adapter really has.
$mtuWanted = ${ps(String(req.mtu))}
if ("$($adapter.MtuSize)" -ne $mtuWanted) { $fail += "$($where): MtuSize requested $mtuWanted, actual $(if ($null -eq $adapter.MtuSize) { 'absent' } else { $adapter.MtuSize })" }
if ("$ipMtu" -ne $mtuWanted) { $fail += "$($where): NlMtu requested $mtuWanted, actual $(if ($null -eq $ipMtu) { 'absent' } else { $ipMtu })" }

$readBack = [ordered]@{
  adapter = $adapter.Name
  interfaceDescription = $adapter.InterfaceDescription
  driverFileName = $adapter.DriverFileName
  driverVersion = $adapter.DriverVersion
  driverDate = $adapter.DriverDate
  linkStatus = [string]$adapter.Status
  readiness = $readiness
  restarted = $changed
  mtuSize = $(if ($null -ne $adapter.MtuSize) { [long]$adapter.MtuSize } else { $null })
  ipMtu = $ipMtu
  properties = $properties
  setErrors = $setErrors
  usoDriver = $usoDriver
  netkvmConfig = $config
  netkvmDiag = Get-NetKvmWmi 'NetKvm_Diag'
}
[Console]::Out.WriteLine((ConvertTo-Json -InputObject $readBack -Depth 6 -Compress))
if ($fail.Count -gt 0) {
  [Console]::Error.WriteLine("offload settings did not take: " + ($fail -join '; '))
  exit 1
}
`;
}
