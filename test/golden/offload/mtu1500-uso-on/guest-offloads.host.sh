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
  reply=$(ol_agent '{"execute":"guest-exec","arguments":{"path":"powershell.exe","arg":["-NoProfile","-NonInteractive","-ExecutionPolicy","Bypass","-EncodedCommand","JABFAHIAcgBvAHIAQQBjAHQAaQBvAG4AUAByAGUAZgBlAHIAZQBuAGMAZQAgAD0AIAAnAFMAdABvAHAAJwAKACQAdQB0AGYAOAAgAD0AIABOAGUAdwAtAE8AYgBqAGUAYwB0ACAAUwB5AHMAdABlAG0ALgBUAGUAeAB0AC4AVQBUAEYAOABFAG4AYwBvAGQAaQBuAGcAIAAkAGYAYQBsAHMAZQAKAHQAcgB5ACAAewAgAFsAQwBvAG4AcwBvAGwAZQBdADoAOgBPAHUAdABwAHUAdABFAG4AYwBvAGQAaQBuAGcAIAA9ACAAJAB1AHQAZgA4ACAAfQAgAGMAYQB0AGMAaAAgAHsAIAB9AAoAJABiAHUAZgBmAGUAcgAgAD0AIABOAGUAdwAtAE8AYgBqAGUAYwB0ACAAUwB5AHMAdABlAG0ALgBJAE8ALgBNAGUAbQBvAHIAeQBTAHQAcgBlAGEAbQAKAFsAQwBvAG4AcwBvAGwAZQBdADoAOgBPAHAAZQBuAFMAdABhAG4AZABhAHIAZABJAG4AcAB1AHQAKAApAC4AQwBvAHAAeQBUAG8AKAAkAGIAdQBmAGYAZQByACkACgAkAGcAdQBlAHMAdABTAGMAcgBpAHAAdAAgAD0AIABbAHMAYwByAGkAcAB0AGIAbABvAGMAawBdADoAOgBDAHIAZQBhAHQAZQAoACQAdQB0AGYAOAAuAEcAZQB0AFMAdAByAGkAbgBnACgAJABiAHUAZgBmAGUAcgAuAFQAbwBBAHIAcgBhAHkAKAApACkAKQAKAHQAcgB5ACAAewAgACYAIAAkAGcAdQBlAHMAdABTAGMAcgBpAHAAdAAgAH0AIABjAGEAdABjAGgAIAB7AAoAIAAgAFsAQwBvAG4AcwBvAGwAZQBdADoAOgBFAHIAcgBvAHIALgBXAHIAaQB0AGUATABpAG4AZQAoACIAJAAoACQAXwAuAEUAeABjAGUAcAB0AGkAbwBuAC4ATQBlAHMAcwBhAGcAZQApAAoAJAAoACQAXwAuAFMAYwByAGkAcAB0AFMAdABhAGMAawBUAHIAYQBjAGUAKQAiACkACgAgACAAZQB4AGkAdAAgADEACgB9AAoAZQB4AGkAdAAgADAACgA="],"input-data":"'"$input"'","capture-output":true}}' 2>&1) || {
    echo "guest_exec: guest-exec in $OL_AGENT_DOMAIN failed: $reply" >&2
    return 125
  }
  pid=$(ol_agent_field "$reply" pid)
  if [[ ! $pid =~ ^[0-9]+$ ]]; then
    echo "guest_exec: guest-exec in $OL_AGENT_DOMAIN gave no pid: $reply" >&2
    return 125
  fi
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
guest_exec <<'OFFLOAD_LAB_GUEST_SCRIPT_eca357c87cebf503'
# offload-lab guest-offloads (Windows guest, NetKVM)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$adapterMac = '52-54-00-4E-4B-01'
$adapterWanted = "no network adapter with MAC $adapterMac in the guest (set guest.adapterName to name it)"
$adapter = @(Get-NetAdapter -Physical | Where-Object { $_.MacAddress -eq $adapterMac })[0]
if ($null -eq $adapter) { [Console]::Error.WriteLine("guest-offloads: $adapterWanted"); exit 2 }
function Get-AdvancedProperties {
  $byKeyword = @{}
  Get-NetAdapterAdvancedProperty -Name '*' -AllProperties | Where-Object { $_.Name -eq $adapter.Name } | ForEach-Object { $byKeyword[$_.RegistryKeyword] = $_ }
  $byKeyword
}
function Get-NetKvmWmi([string]$class) {
  # Only recent NetKVM builds register these classes; older ones have neither.
  try { $all = @(Get-CimInstance -Namespace 'root\wmi' -ClassName $class -ErrorAction Stop) } catch { return $null }
  $mine = @($all | Where-Object { $_.InstanceName -eq $adapter.InterfaceDescription })
  if ($mine.Count -eq 0 -and $all.Count -eq 1) { $mine = $all }
  if ($mine.Count -eq 0) { return $null }
  $values = [ordered]@{}
  foreach ($p in $mine[0].CimInstanceProperties) {
    if ($p.Name -ne 'InstanceName' -and $p.Name -ne 'Active') { $values[$p.Name] = $p.Value }
  }
  $values
}

$requested = @(
  @{ Keyword = '*UsoIPv4'; Value = '1' },
  @{ Keyword = '*UsoIPv6'; Value = '1' }
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
if ($changed) {
  $adapter | Restart-NetAdapter -Confirm:$false
  $deadline = (Get-Date).AddSeconds(120)
  do {
    Start-Sleep -Seconds 1
    $adapter = Get-NetAdapter -InterfaceIndex $adapter.ifIndex
  } while ($adapter.Status -ne 'Up' -and (Get-Date) -lt $deadline)
}
$adapter = Get-NetAdapter -InterfaceIndex $adapter.ifIndex

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
if ($adapter.Status -ne 'Up') { $fail += "$($where): link requested Up, actual $($adapter.Status)" }
$ipInterface = @(Get-NetIPInterface -InterfaceIndex $adapter.ifIndex -AddressFamily IPv4 -ErrorAction SilentlyContinue)[0]

$readBack = [ordered]@{
  adapter = $adapter.Name
  interfaceDescription = $adapter.InterfaceDescription
  driverFileName = $adapter.DriverFileName
  driverVersion = $adapter.DriverVersion
  driverDate = $adapter.DriverDate
  linkStatus = [string]$adapter.Status
  restarted = $changed
  mtuSize = $adapter.MtuSize
  ipMtu = $(if ($null -ne $ipInterface) { $ipInterface.NlMtu } else { $null })
  properties = $properties
  setErrors = $setErrors
  netkvmConfig = Get-NetKvmWmi 'NetKvm_Config'
  netkvmDiag = Get-NetKvmWmi 'NetKvm_Diag'
}
[Console]::Out.WriteLine((ConvertTo-Json -InputObject $readBack -Depth 5 -Compress))
if ($fail.Count -gt 0) {
  [Console]::Error.WriteLine("offload settings did not take: " + ($fail -join '; '))
  exit 1
}
OFFLOAD_LAB_GUEST_SCRIPT_eca357c87cebf503
