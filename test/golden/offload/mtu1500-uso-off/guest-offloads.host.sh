set -euo pipefail
# guest_exec: the QEMU guest agent of win-uso-lab via virsh
OL_AGENT_URI=qemu\:///system
OL_AGENT_DOMAIN=win-uso-lab
OL_AGENT_TIMEOUT=300
ol_agent() {
  virsh -q -c "$OL_AGENT_URI" qemu-agent-command "$OL_AGENT_DOMAIN" "$1"
}
# A field of the reply's "return" object, printed raw; nothing when it is absent or not JSON.
ol_agent_field() {
  printf '%s' "$1" | jq -r --arg f "$2" '.return[$f] | select(. != null) | tostring' 2>/dev/null
}
ol_agent_data() {
  ol_agent_field "$1" "$2" | base64 -d
}
guest_exec() {
  local input reply err pid status code signal deadline
  input=$(base64 -w0)
  deadline=$((SECONDS + OL_AGENT_TIMEOUT))
  until err=$(ol_agent '{"execute":"guest-ping"}' 2>&1 >/dev/null); do
    if ((SECONDS >= deadline)); then
      echo "guest_exec: the guest agent of $OL_AGENT_DOMAIN did not answer within $OL_AGENT_TIMEOUT s: $err" >&2
      return 124
    fi
    sleep 1
  done
  reply=$(ol_agent '{"execute":"guest-exec","arguments":{"path":"powershell.exe","arg":["-NoProfile","-NonInteractive","-ExecutionPolicy","Bypass","-EncodedCommand","JABFAHIAcgBvAHIAQQBjAHQAaQBvAG4AUAByAGUAZgBlAHIAZQBuAGMAZQAgAD0AIAAnAFMAdABvAHAAJwAKACQAUAByAG8AZwByAGUAcwBzAFAAcgBlAGYAZQByAGUAbgBjAGUAIAA9ACAAJwBTAGkAbABlAG4AdABsAHkAQwBvAG4AdABpAG4AdQBlACcACgAkAFcAYQByAG4AaQBuAGcAUAByAGUAZgBlAHIAZQBuAGMAZQAgAD0AIAAnAEMAbwBuAHQAaQBuAHUAZQAnAAoAJABWAGUAcgBiAG8AcwBlAFAAcgBlAGYAZQByAGUAbgBjAGUAIAA9ACAAJwBTAGkAbABlAG4AdABsAHkAQwBvAG4AdABpAG4AdQBlACcACgAkAEQAZQBiAHUAZwBQAHIAZQBmAGUAcgBlAG4AYwBlACAAPQAgACcAUwBpAGwAZQBuAHQAbAB5AEMAbwBuAHQAaQBuAHUAZQAnAAoAJABJAG4AZgBvAHIAbQBhAHQAaQBvAG4AUAByAGUAZgBlAHIAZQBuAGMAZQAgAD0AIAAnAFMAaQBsAGUAbgB0AGwAeQBDAG8AbgB0AGkAbgB1AGUAJwAKACQAdQB0AGYAOAAgAD0AIABOAGUAdwAtAE8AYgBqAGUAYwB0ACAAUwB5AHMAdABlAG0ALgBUAGUAeAB0AC4AVQBUAEYAOABFAG4AYwBvAGQAaQBuAGcAIAAkAGYAYQBsAHMAZQAKACQAcwB0AGQAbwB1AHQAIAA9ACAATgBlAHcALQBPAGIAagBlAGMAdAAgAFMAeQBzAHQAZQBtAC4ASQBPAC4AUwB0AHIAZQBhAG0AVwByAGkAdABlAHIAIAAoAFsAQwBvAG4AcwBvAGwAZQBdADoAOgBPAHAAZQBuAFMAdABhAG4AZABhAHIAZABPAHUAdABwAHUAdAAoACkAKQAsACAAJAB1AHQAZgA4AAoAJABzAHQAZABvAHUAdAAuAEEAdQB0AG8ARgBsAHUAcwBoACAAPQAgACQAdAByAHUAZQAKAFsAQwBvAG4AcwBvAGwAZQBdADoAOgBTAGUAdABPAHUAdAAoACQAcwB0AGQAbwB1AHQAKQAKACQAcwB0AGQAZQByAHIAIAA9ACAATgBlAHcALQBPAGIAagBlAGMAdAAgAFMAeQBzAHQAZQBtAC4ASQBPAC4AUwB0AHIAZQBhAG0AVwByAGkAdABlAHIAIAAoAFsAQwBvAG4AcwBvAGwAZQBdADoAOgBPAHAAZQBuAFMAdABhAG4AZABhAHIAZABFAHIAcgBvAHIAKAApACkALAAgACQAdQB0AGYAOAAKACQAcwB0AGQAZQByAHIALgBBAHUAdABvAEYAbAB1AHMAaAAgAD0AIAAkAHQAcgB1AGUACgBbAEMAbwBuAHMAbwBsAGUAXQA6ADoAUwBlAHQARQByAHIAbwByACgAJABzAHQAZABlAHIAcgApAAoAJABiAHUAZgBmAGUAcgAgAD0AIABOAGUAdwAtAE8AYgBqAGUAYwB0ACAAUwB5AHMAdABlAG0ALgBJAE8ALgBNAGUAbQBvAHIAeQBTAHQAcgBlAGEAbQAKAFsAQwBvAG4AcwBvAGwAZQBdADoAOgBPAHAAZQBuAFMAdABhAG4AZABhAHIAZABJAG4AcAB1AHQAKAApAC4AQwBvAHAAeQBUAG8AKAAkAGIAdQBmAGYAZQByACkACgAkAGcAdQBlAHMAdABTAGMAcgBpAHAAdAAgAD0AIABbAHMAYwByAGkAcAB0AGIAbABvAGMAawBdADoAOgBDAHIAZQBhAHQAZQAoACQAdQB0AGYAOAAuAEcAZQB0AFMAdAByAGkAbgBnACgAJABiAHUAZgBmAGUAcgAuAFQAbwBBAHIAcgBhAHkAKAApACkAKQAKAHQAcgB5ACAAewAKACAAIAAmACAAJABnAHUAZQBzAHQAUwBjAHIAaQBwAHQAIAAqAD4AJgAxACAAfAAgAEYAbwByAEUAYQBjAGgALQBPAGIAagBlAGMAdAAgAHsACgAgACAAIAAgAGkAZgAgACgAJABfACAALQBpAHMAIABbAFMAeQBzAHQAZQBtAC4ATQBhAG4AYQBnAGUAbQBlAG4AdAAuAEEAdQB0AG8AbQBhAHQAaQBvAG4ALgBFAHIAcgBvAHIAUgBlAGMAbwByAGQAXQApACAAewAgAFsAQwBvAG4AcwBvAGwAZQBdADoAOgBFAHIAcgBvAHIALgBXAHIAaQB0AGUATABpAG4AZQAoACIAZQByAHIAbwByADoAIAAkAF8AIgApACAAfQAKACAAIAAgACAAZQBsAHMAZQBpAGYAIAAoACQAXwAgAC0AaQBzACAAWwBTAHkAcwB0AGUAbQAuAE0AYQBuAGEAZwBlAG0AZQBuAHQALgBBAHUAdABvAG0AYQB0AGkAbwBuAC4AVwBhAHIAbgBpAG4AZwBSAGUAYwBvAHIAZABdACkAIAB7ACAAWwBDAG8AbgBzAG8AbABlAF0AOgA6AEUAcgByAG8AcgAuAFcAcgBpAHQAZQBMAGkAbgBlACgAIgB3AGEAcgBuAGkAbgBnADoAIAAkACgAJABfAC4ATQBlAHMAcwBhAGcAZQApACIAKQAgAH0ACgAgACAAIAAgAGUAbABzAGUAaQBmACAAKAAkAF8AIAAtAGkAcwAgAFsAUwB5AHMAdABlAG0ALgBNAGEAbgBhAGcAZQBtAGUAbgB0AC4AQQB1AHQAbwBtAGEAdABpAG8AbgAuAEkAbgBmAG8AcgBtAGEAdABpAG8AbgBhAGwAUgBlAGMAbwByAGQAXQApACAAewAgAFsAQwBvAG4AcwBvAGwAZQBdADoAOgBFAHIAcgBvAHIALgBXAHIAaQB0AGUATABpAG4AZQAoACQAXwAuAE0AZQBzAHMAYQBnAGUAKQAgAH0ACgAgACAAIAAgAGUAbABzAGUAIAB7ACAAWwBDAG8AbgBzAG8AbABlAF0AOgA6AE8AdQB0AC4AVwByAGkAdABlAEwAaQBuAGUAKAAoACQAXwAgAHwAIABPAHUAdAAtAFMAdAByAGkAbgBnACkALgBUAHIAaQBtAEUAbgBkACgAKQApACAAfQAKACAAIAB9AAoAfQAgAGMAYQB0AGMAaAAgAHsACgAgACAAWwBDAG8AbgBzAG8AbABlAF0AOgA6AEUAcgByAG8AcgAuAFcAcgBpAHQAZQBMAGkAbgBlACgAIgAkACgAJABfAC4ARQB4AGMAZQBwAHQAaQBvAG4ALgBNAGUAcwBzAGEAZwBlACkAYABuACQAKAAkAF8ALgBTAGMAcgBpAHAAdABTAHQAYQBjAGsAVAByAGEAYwBlACkAIgApAAoAIAAgAGUAeABpAHQAIAAxAAoAfQAKAGUAeABpAHQAIAAwAAoA"],"input-data":"'"$input"'","capture-output":true}}' 2>&1) || {
    echo "guest_exec: guest-exec in $OL_AGENT_DOMAIN failed: $reply" >&2
    return 125
  }
  pid=$(ol_agent_field "$reply" pid)
  if [[ ! $pid =~ ^[0-9]+$ ]]; then
    echo "guest_exec: guest-exec in $OL_AGENT_DOMAIN gave no pid: $reply" >&2
    return 125
  fi
  # For guest_stop, should the caller's deadline end this function before the guest's script.
  if [[ -n ${OL_GUEST_PID_FILE:-} ]]; then printf '%s\n' "$pid" >"$OL_GUEST_PID_FILE"; fi
  deadline=$((SECONDS + OL_AGENT_TIMEOUT))
  while :; do
    status=$(ol_agent '{"execute":"guest-exec-status","arguments":{"pid":'"$pid"'}}' 2>&1) || {
      echo "guest_exec: guest-exec-status $pid in $OL_AGENT_DOMAIN failed: $status" >&2
      return 125
    }
    [[ $(ol_agent_field "$status" exited) == true ]] && break
    if ((SECONDS >= deadline)); then
      echo "guest_exec: the guest script (pid $pid in $OL_AGENT_DOMAIN) did not end within $OL_AGENT_TIMEOUT s" >&2
      return 124
    fi
    sleep 1
  done
  ol_agent_data "$status" out-data
  ol_agent_data "$status" err-data >&2
  if [[ $(ol_agent_field "$status" out-truncated) == true || $(ol_agent_field "$status" err-truncated) == true ]]; then
    echo "guest_exec: the guest agent truncated the output of pid $pid in $OL_AGENT_DOMAIN" >&2
    return 125
  fi
  code=$(ol_agent_field "$status" exitcode)
  signal=$(ol_agent_field "$status" signal)
  if [[ -n $signal ]]; then
    echo "guest_exec: the guest script (pid $pid in $OL_AGENT_DOMAIN) was killed by signal $signal" >&2
    return 125
  fi
  if [[ ! $code =~ ^-?[0-9]+$ ]]; then
    echo "guest_exec: guest-exec-status for pid $pid in $OL_AGENT_DOMAIN has no exit code: $status" >&2
    return 125
  fi
  return $((code == 0 ? 0 : (code & 255) == 0 ? 1 : code & 255))
}
# guest_stop PIDFILE: ends the guest process guest_exec started (and what it started).
guest_stop() {
  local pid reply
  pid=$(cat "$1" 2>/dev/null) || true
  if [[ ! $pid =~ ^[0-9]+$ ]]; then
    echo "guest_stop: no guest pid recorded in $1" >&2
    return 125
  fi
  reply=$(ol_agent '{"execute":"guest-exec","arguments":{"path":"taskkill.exe","arg":["/F","/T","/PID","'"$pid"'"],"capture-output":true}}' 2>&1) || {
    echo "guest_stop: guest-exec of the stop for pid $pid in $OL_AGENT_DOMAIN failed: $reply" >&2
    return 125
  }
  echo "guest_stop: asked the guest to end pid $pid in $OL_AGENT_DOMAIN" >&2
}
guest_exec <<'OFFLOAD_LAB_GUEST_SCRIPT_fc753e1c1ffa1e81'
# offload-lab guest-offloads (Windows guest, NetKVM)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$adapterMac = '52-54-00-4E-4B-01'
$adapterWanted = "no network adapter with MAC $adapterMac in the guest (set guest.adapterName to name it)"
$adapter = @(Get-NetAdapter -Physical -ErrorAction SilentlyContinue | Where-Object { $_.MacAddress -eq $adapterMac })[0]
if ($null -eq $adapter) { [Console]::Error.WriteLine("guest-offloads: $adapterWanted"); exit 2 }
function Get-AdvancedProperties {
  $byKeyword = @{}
  Get-NetAdapterAdvancedProperty -Name '*' -AllProperties | Where-Object { $_.Name -eq $adapter.Name } | ForEach-Object { $byKeyword[$_.RegistryKeyword] = $_ }
  $byKeyword
}
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
$hostAddress = '192.168.122.1'
function Get-Readiness {
  if ($null -eq $adapter) { return 'adapter absent' }
  if ([string]$adapter.Status -ne 'Up') { return "link $($adapter.Status)" }
  $address = @(Get-NetIPAddress -InterfaceIndex $adapter.ifIndex -AddressFamily IPv4 -ErrorAction SilentlyContinue | Where-Object { [string]$_.AddressState -eq 'Preferred' })[0]
  if ($null -eq $address) { return 'no preferred IPv4 address' }
  try { $reply = (New-Object System.Net.NetworkInformation.Ping).Send($hostAddress, 1000) } catch { $reply = $null }
  if ($null -eq $reply -or [string]$reply.Status -ne 'Success') { return "host $hostAddress does not answer" }
  'ready'
}

$requested = @(
  @{ Keyword = '*UsoIPv4'; Value = '0' },
  @{ Keyword = '*UsoIPv6'; Value = '0' }
)
$props = Get-AdvancedProperties
# virtio-win 0.1.190 replaced the MTU keyword (IP MTU) with *JumboPacket (frame size).
if ($props.ContainsKey('MTU') -and -not $props.ContainsKey('*JumboPacket')) {
  $requested += @{ Keyword = 'MTU'; Value = '1500' }
} else {
  $requested += @{ Keyword = '*JumboPacket'; Value = '1514' }
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
$deadline = (Get-Date).AddSeconds(120)
if ($changed) { $adapter | Restart-NetAdapter -Confirm:$false }
do {
  $adapterMac = '52-54-00-4E-4B-01'
  $adapterWanted = "no network adapter with MAC $adapterMac in the guest (set guest.adapterName to name it)"
  $adapter = @(Get-NetAdapter -Physical -ErrorAction SilentlyContinue | Where-Object { $_.MacAddress -eq $adapterMac })[0]
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
if ($usoDriver['ipv4'] -ne 'unverified' -and $usoDriver['ipv4'] -ne 'off') { $fail += "$($where): NetKvm_Config.UsoEnabledv4 requested off, actual $($usoDriver['ipv4']) while the registry says $(Get-RegistryText '*UsoIPv4')" }
if ($usoDriver['ipv6'] -ne 'unverified' -and $usoDriver['ipv6'] -ne 'off') { $fail += "$($where): NetKvm_Config.UsoEnabledv6 requested off, actual $($usoDriver['ipv6']) while the registry says $(Get-RegistryText '*UsoIPv6')" }
$ipInterface = @(Get-NetIPInterface -InterfaceIndex $adapter.ifIndex -AddressFamily IPv4 -ErrorAction SilentlyContinue)[0]
$ipMtu = $(if ($null -ne $ipInterface) { [long]$ipInterface.NlMtu } else { $null })
# The device's MTU (VIRTIO_NET_F_MTU) wins over *JumboPacket: check what the adapter really has.
$mtuWanted = '1500'
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
OFFLOAD_LAB_GUEST_SCRIPT_fc753e1c1ffa1e81
