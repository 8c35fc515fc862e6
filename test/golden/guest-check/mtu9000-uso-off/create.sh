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
OL_TRANSPORT="qemu-guest-agent of win-uso-lab via virsh -c qemu:///system"
# ol_round_trip EXPECTED: runs the round-trip script read on stdin through guest_exec and
# fails the step unless the guest printed exactly EXPECTED. The script itself travels on the
# program's stdin (the Windows loader and `sh -s` both read it there, to its end), so its line
# coming back proves at once that the transport delivers stdin, closes it, and returns stdout.
# Everything after depends on that, and qemu-ga's delivery of guest-exec input-data on Windows
# has never run here (docs/windows-guest.md). OL_TRANSPORT names the transport for the message.
ol_round_trip() {
  local expected=$1 got rc=0 err
  err=$(mktemp)
  got=$(guest_exec 2>"$err") || rc=$?
  got=${got%$'\r'}
  if [[ $rc -ne 0 || $got != "$expected" ]]; then
    printf 'offload-lab: the first guest step could not run a one-line script through %s (exit %s, printed %q; stderr: %s)\n' \
      "$OL_TRANSPORT" "$rc" "$got" "$(tr '\n' ' ' <"$err")" >&2
    printf '%s\n' "offload-lab: the transport must deliver the script on the program's stdin, close it, and return its stdout. With guest.access agent: the QEMU guest agent must run in the guest (Windows: Get-Service QEMU-GA; install guest-agent\\qemu-ga-x86_64.msi from the virtio-win ISO, with vioserial) and pass guest-exec input-data to the program's stdin; if it does not, use guest.access ssh (docs/windows-guest.md). With ssh: the key, user and address must log in." >&2
    rm -f -- "$err"
    exit 1
  fi
  rm -f -- "$err"
}
ol_round_trip "offload-lab round trip: stdin in, stdout out" <<'OFFLOAD_LAB_ROUND_TRIP_6deab2a331af039f'
[Console]::Out.WriteLine('offload-lab round trip: stdin in, stdout out')
OFFLOAD_LAB_ROUND_TRIP_6deab2a331af039f
guest_exec <<'OFFLOAD_LAB_GUEST_SCRIPT_ac4d04096b0e309c'
# offload-lab guest-check (Windows guest): src/plan/guest-check/windows.ps1, with the stack's values as its parameters
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
$offloadLabParameters = @{
  AdapterName = ''
  AdapterMac = '52-54-00-4E-4B-01'
  Iperf3Path = 'C:\iperf3\iperf3.exe'
  Access = 'agent'
  MinimumBuild = 19041
  NetkvmInstalledByLab = $false
}
& {
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
} @offloadLabParameters
OFFLOAD_LAB_GUEST_SCRIPT_ac4d04096b0e309c
