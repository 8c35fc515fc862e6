set -euo pipefail
# guest_exec and guest_stop: src/plan/transport/agent.sh, after the transport's values
OL_AGENT_URI=qemu:///system
OL_AGENT_DOMAIN=win-uso-lab
OL_AGENT_TIMEOUT=300
OL_AGENT_COMMAND="{\"path\":\"powershell.exe\",\"arg\":[\"-NoProfile\",\"-NonInteractive\",\"-ExecutionPolicy\",\"Bypass\",\"-EncodedCommand\",\"JABFAHIAcgBvAHIAQQBjAHQAaQBvAG4AUAByAGUAZgBlAHIAZQBuAGMAZQAgAD0AIAAnAFMAdABvAHAAJwAKACQAUAByAG8AZwByAGUAcwBzAFAAcgBlAGYAZQByAGUAbgBjAGUAIAA9ACAAJwBTAGkAbABlAG4AdABsAHkAQwBvAG4AdABpAG4AdQBlACcACgAkAFcAYQByAG4AaQBuAGcAUAByAGUAZgBlAHIAZQBuAGMAZQAgAD0AIAAnAEMAbwBuAHQAaQBuAHUAZQAnAAoAJABWAGUAcgBiAG8AcwBlAFAAcgBlAGYAZQByAGUAbgBjAGUAIAA9ACAAJwBTAGkAbABlAG4AdABsAHkAQwBvAG4AdABpAG4AdQBlACcACgAkAEQAZQBiAHUAZwBQAHIAZQBmAGUAcgBlAG4AYwBlACAAPQAgACcAUwBpAGwAZQBuAHQAbAB5AEMAbwBuAHQAaQBuAHUAZQAnAAoAJABJAG4AZgBvAHIAbQBhAHQAaQBvAG4AUAByAGUAZgBlAHIAZQBuAGMAZQAgAD0AIAAnAFMAaQBsAGUAbgB0AGwAeQBDAG8AbgB0AGkAbgB1AGUAJwAKACQAdQB0AGYAOAAgAD0AIABOAGUAdwAtAE8AYgBqAGUAYwB0ACAAUwB5AHMAdABlAG0ALgBUAGUAeAB0AC4AVQBUAEYAOABFAG4AYwBvAGQAaQBuAGcAIAAkAGYAYQBsAHMAZQAKACQAcwB0AGQAbwB1AHQAIAA9ACAATgBlAHcALQBPAGIAagBlAGMAdAAgAFMAeQBzAHQAZQBtAC4ASQBPAC4AUwB0AHIAZQBhAG0AVwByAGkAdABlAHIAIAAoAFsAQwBvAG4AcwBvAGwAZQBdADoAOgBPAHAAZQBuAFMAdABhAG4AZABhAHIAZABPAHUAdABwAHUAdAAoACkAKQAsACAAJAB1AHQAZgA4AAoAJABzAHQAZABvAHUAdAAuAEEAdQB0AG8ARgBsAHUAcwBoACAAPQAgACQAdAByAHUAZQAKAFsAQwBvAG4AcwBvAGwAZQBdADoAOgBTAGUAdABPAHUAdAAoACQAcwB0AGQAbwB1AHQAKQAKACQAcwB0AGQAZQByAHIAIAA9ACAATgBlAHcALQBPAGIAagBlAGMAdAAgAFMAeQBzAHQAZQBtAC4ASQBPAC4AUwB0AHIAZQBhAG0AVwByAGkAdABlAHIAIAAoAFsAQwBvAG4AcwBvAGwAZQBdADoAOgBPAHAAZQBuAFMAdABhAG4AZABhAHIAZABFAHIAcgBvAHIAKAApACkALAAgACQAdQB0AGYAOAAKACQAcwB0AGQAZQByAHIALgBBAHUAdABvAEYAbAB1AHMAaAAgAD0AIAAkAHQAcgB1AGUACgBbAEMAbwBuAHMAbwBsAGUAXQA6ADoAUwBlAHQARQByAHIAbwByACgAJABzAHQAZABlAHIAcgApAAoAJABiAHUAZgBmAGUAcgAgAD0AIABOAGUAdwAtAE8AYgBqAGUAYwB0ACAAUwB5AHMAdABlAG0ALgBJAE8ALgBNAGUAbQBvAHIAeQBTAHQAcgBlAGEAbQAKAFsAQwBvAG4AcwBvAGwAZQBdADoAOgBPAHAAZQBuAFMAdABhAG4AZABhAHIAZABJAG4AcAB1AHQAKAApAC4AQwBvAHAAeQBUAG8AKAAkAGIAdQBmAGYAZQByACkACgAkAGcAdQBlAHMAdABTAGMAcgBpAHAAdAAgAD0AIABbAHMAYwByAGkAcAB0AGIAbABvAGMAawBdADoAOgBDAHIAZQBhAHQAZQAoACQAdQB0AGYAOAAuAEcAZQB0AFMAdAByAGkAbgBnACgAJABiAHUAZgBmAGUAcgAuAFQAbwBBAHIAcgBhAHkAKAApACkAKQAKAHQAcgB5ACAAewAKACAAIAAmACAAJABnAHUAZQBzAHQAUwBjAHIAaQBwAHQAIAAqAD4AJgAxACAAfAAgAEYAbwByAEUAYQBjAGgALQBPAGIAagBlAGMAdAAgAHsACgAgACAAIAAgAGkAZgAgACgAJABfACAALQBpAHMAIABbAFMAeQBzAHQAZQBtAC4ATQBhAG4AYQBnAGUAbQBlAG4AdAAuAEEAdQB0AG8AbQBhAHQAaQBvAG4ALgBFAHIAcgBvAHIAUgBlAGMAbwByAGQAXQApACAAewAgAFsAQwBvAG4AcwBvAGwAZQBdADoAOgBFAHIAcgBvAHIALgBXAHIAaQB0AGUATABpAG4AZQAoACIAZQByAHIAbwByADoAIAAkAF8AIgApACAAfQAKACAAIAAgACAAZQBsAHMAZQBpAGYAIAAoACQAXwAgAC0AaQBzACAAWwBTAHkAcwB0AGUAbQAuAE0AYQBuAGEAZwBlAG0AZQBuAHQALgBBAHUAdABvAG0AYQB0AGkAbwBuAC4AVwBhAHIAbgBpAG4AZwBSAGUAYwBvAHIAZABdACkAIAB7ACAAWwBDAG8AbgBzAG8AbABlAF0AOgA6AEUAcgByAG8AcgAuAFcAcgBpAHQAZQBMAGkAbgBlACgAIgB3AGEAcgBuAGkAbgBnADoAIAAkACgAJABfAC4ATQBlAHMAcwBhAGcAZQApACIAKQAgAH0ACgAgACAAIAAgAGUAbABzAGUAaQBmACAAKAAkAF8AIAAtAGkAcwAgAFsAUwB5AHMAdABlAG0ALgBNAGEAbgBhAGcAZQBtAGUAbgB0AC4AQQB1AHQAbwBtAGEAdABpAG8AbgAuAEkAbgBmAG8AcgBtAGEAdABpAG8AbgBhAGwAUgBlAGMAbwByAGQAXQApACAAewAgAFsAQwBvAG4AcwBvAGwAZQBdADoAOgBFAHIAcgBvAHIALgBXAHIAaQB0AGUATABpAG4AZQAoACQAXwAuAE0AZQBzAHMAYQBnAGUAKQAgAH0ACgAgACAAIAAgAGUAbABzAGUAaQBmACAAKAAkAF8AIAAtAGkAcwAgAFsAUwB5AHMAdABlAG0ALgBNAGEAbgBhAGcAZQBtAGUAbgB0AC4AQQB1AHQAbwBtAGEAdABpAG8AbgAuAEkAbgBmAG8AcgBtAGEAdABpAG8AbgBSAGUAYwBvAHIAZABdACkAIAB7ACAAWwBDAG8AbgBzAG8AbABlAF0AOgA6AEUAcgByAG8AcgAuAFcAcgBpAHQAZQBMAGkAbgBlACgAIgAkACgAJABfAC4ATQBlAHMAcwBhAGcAZQBEAGEAdABhACkAIgApACAAfQAKACAAIAAgACAAZQBsAHMAZQAgAHsAIABbAEMAbwBuAHMAbwBsAGUAXQA6ADoATwB1AHQALgBXAHIAaQB0AGUATABpAG4AZQAoACgAJABfACAAfAAgAE8AdQB0AC0AUwB0AHIAaQBuAGcAKQAuAFQAcgBpAG0ARQBuAGQAKAApACkAIAB9AAoAIAAgAH0ACgB9ACAAYwBhAHQAYwBoACAAewAKACAAIABbAEMAbwBuAHMAbwBsAGUAXQA6ADoARQByAHIAbwByAC4AVwByAGkAdABlAEwAaQBuAGUAKAAiACQAKAAkAF8ALgBFAHgAYwBlAHAAdABpAG8AbgAuAE0AZQBzAHMAYQBnAGUAKQBgAG4AJAAoACQAXwAuAFMAYwByAGkAcAB0AFMAdABhAGMAawBUAHIAYQBjAGUAKQAiACkACgAgACAAZQB4AGkAdAAgADEACgB9AAoAZQB4AGkAdAAgADAACgA=\"]}"
OL_AGENT_STOP="{\"path\":\"taskkill.exe\",\"arg\":[\"/F\",\"/T\",\"/PID\"]}"
# guest_exec through the QEMU guest agent with `virsh qemu-agent-command`: `guest-ping` until
# the agent answers, `guest-exec` with the script as base64 `input-data`, `guest-exec-status`
# until it exits, then out-data/err-data decoded onto stdout/stderr and the guest's exit code
# returned. Bound before this: OL_AGENT_URI, OL_AGENT_DOMAIN, OL_AGENT_TIMEOUT (seconds to wait
# for the agent after boot, and again for the script to end), OL_AGENT_COMMAND and
# OL_AGENT_STOP (JSON: the guest program that reads the script on stdin; the one that ends a
# guest pid, given as its last argument).
#
# Requests are built and replies read with jq, whatever libvirt's JSON writer escapes (a json-c
# libvirt writes '/' as '\/'). The agent leaves out `out-data`/`err-data` when they are empty
# and `exitcode` when a signal ended the process (it sends `signal` then).
: "${OL_AGENT_URI:?}" "${OL_AGENT_DOMAIN:?}" "${OL_AGENT_TIMEOUT:?}" "${OL_AGENT_COMMAND:?}" "${OL_AGENT_STOP:?}"
# A status poll is a short request: it gets its own timeout (virsh's default would wait as
# long as libvirt's agent timeout, and a busy agent or a dropped reply would end the step at
# once), and a failed poll is asked again, a bounded number of times, before the step fails.
OL_AGENT_POLL_SECONDS=10
OL_AGENT_POLL_TRIES=3
ol_agent() {
  virsh -q -c "$OL_AGENT_URI" qemu-agent-command "$OL_AGENT_DOMAIN" "$1"
}
# ol_agent_poll REQUEST: the reply on stdout; after OL_AGENT_POLL_TRIES failures, the last
# error on stdout and status 1.
ol_agent_poll() {
  local try reply
  for ((try = 1; ; try++)); do
    if reply=$(virsh -q -c "$OL_AGENT_URI" qemu-agent-command --timeout "$OL_AGENT_POLL_SECONDS" "$OL_AGENT_DOMAIN" "$1" 2>&1); then
      printf '%s\n' "$reply"
      return 0
    fi
    if ((try >= OL_AGENT_POLL_TRIES)); then
      printf '%s\n' "$reply"
      return 1
    fi
    echo "guest_exec: poll $try of $OL_AGENT_POLL_TRIES in $OL_AGENT_DOMAIN failed, asking again: $reply" >&2
    sleep 1
  done
}
# A field of the reply's "return" object, printed raw; nothing when it is absent or not JSON.
ol_agent_field() {
  printf '%s' "$1" | jq -r --arg f "$2" '.return[$f] | select(. != null) | tostring' 2>/dev/null
}
guest_exec() {
  local input ping request reply err pid status code signal deadline
  input=$(base64 -w0)
  ping=$(jq -nc '{execute: "guest-ping"}')
  deadline=$((SECONDS + OL_AGENT_TIMEOUT))
  until err=$(ol_agent "$ping" 2>&1 >/dev/null); do
    if ((SECONDS >= deadline)); then
      echo "guest_exec: the guest agent of $OL_AGENT_DOMAIN did not answer within $OL_AGENT_TIMEOUT s: $err" >&2
      return 124
    fi
    sleep 1
  done
  request=$(jq -nc --argjson command "$OL_AGENT_COMMAND" --arg input "$input" \
    '{execute: "guest-exec", arguments: ($command + {"input-data": $input, "capture-output": true})}')
  reply=$(ol_agent "$request" 2>&1) || {
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
  request=$(jq -nc --argjson pid "$pid" '{execute: "guest-exec-status", arguments: {pid: $pid}}')
  deadline=$((SECONDS + OL_AGENT_TIMEOUT))
  while :; do
    status=$(ol_agent_poll "$request") || {
      echo "guest_exec: guest-exec-status $pid in $OL_AGENT_DOMAIN failed $OL_AGENT_POLL_TRIES times ($OL_AGENT_POLL_SECONDS s each): $status" >&2
      return 125
    }
    [[ $(ol_agent_field "$status" exited) == true ]] && break
    if ((SECONDS >= deadline)); then
      echo "guest_exec: the guest script (pid $pid in $OL_AGENT_DOMAIN) did not end within $OL_AGENT_TIMEOUT s" >&2
      return 124
    fi
    sleep 1
  done
  ol_agent_field "$status" out-data | base64 -d
  ol_agent_field "$status" err-data | base64 -d >&2
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
  # A Windows exit code is 32 bits: one that is a multiple of 256 must not read as success.
  return $((code == 0 ? 0 : (code & 255) == 0 ? 1 : code & 255))
}
# guest_stop PIDFILE: ends the guest process guest_exec started (and what it started). The
# agent has no command that kills a guest process, so this is a second guest-exec.
guest_stop() {
  local pid request reply
  pid=$(cat "$1" 2>/dev/null) || true
  if [[ ! $pid =~ ^[0-9]+$ ]]; then
    echo "guest_stop: no guest pid recorded in $1" >&2
    return 125
  fi
  request=$(jq -nc --argjson stop "$OL_AGENT_STOP" --arg pid "$pid" \
    '{execute: "guest-exec", arguments: (($stop | .arg += [$pid]) + {"capture-output": true})}')
  reply=$(ol_agent "$request" 2>&1) || {
    echo "guest_stop: guest-exec of the stop for pid $pid in $OL_AGENT_DOMAIN failed: $reply" >&2
    return 125
  }
  echo "guest_stop: asked the guest to end pid $pid in $OL_AGENT_DOMAIN" >&2
}
guest_exec <<'OFFLOAD_LAB_GUEST_SCRIPT_280534e8952abb7d'
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
OFFLOAD_LAB_GUEST_SCRIPT_280534e8952abb7d
