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
guest_exec <<'OFFLOAD_LAB_GUEST_SCRIPT_dc21d4ea61b4269e'
# offload-lab guest-offloads (Windows guest): src/plan/guest-offloads/windows.ps1, with the stack's values as its parameters
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
  HostAddress = '192.168.122.1'
  Settings = @(@{ Keyword = '*UsoIPv4'; Value = '0' }, @{ Keyword = '*UsoIPv6'; Value = '0' })
  Mtu = '9000'
  JumboPacket = '9014'
  LinkWaitSeconds = 120
}
& {
param(
  # Find-LabAdapter's: guest.adapterName ('' when unset), else the domain's MAC.
  [string]$AdapterName,
  [string]$AdapterMac,
  # The host's address on the lab network: the guest is ready when it answers.
  [string]$HostAddress,
  # NetKVM advanced properties, each @{ Keyword = '*UsoIPv4'; Value = '1' }, checksums first.
  [object[]]$Settings,
  # The IP MTU (the MTU keyword of drivers before virtio-win 0.1.190, and the read-back), and
  # the frame size for *JumboPacket (MTU + 14).
  [string]$Mtu,
  [string]$JumboPacket,
  # Seconds to wait after the one adapter restart for what the matrix needs.
  [int]$LinkWaitSeconds
)
# The offload profile for a Windows guest: every NetKVM advanced property with -NoRestart,
# then one adapter restart, a wait until the matrix can run, and a read-back printed as one
# JSON document. The read-back trusts the driver over the registry for every offload it sets
# ($driverFields below): NetKVM clears LSO, checksums and USO without a word when the host
# lacks the feature, and ignores out-of-range registry values;
# and with <mtu> in the domain XML the device sets the MTU, so the adapter's MtuSize and the IP
# NlMtu are checked. A keyword this driver does not have, a value that did not stick, a driver
# flag or MTU that disagrees, or a guest that is not ready fails the step here, with the
# read-back message.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

# Where the driver itself says whether each offload it was asked for is on (not the
# registry, which NetKVM reads once and overrides without a word: no VIRTIO_NET_F_HOST_TSO4/6
# clears LSO, no VIRTIO_NET_F_CSUM clears the transmit checksums, no HOST_USO / NDIS before
# 6.83 / failover clears USO; NetKVM/Common/ParaNdis_Common.cpp). By field name, never by
# position:
# - NetKvm_Config (root\wmi, NetKVM/Common/netkvm.mof): UsoEnabledv4/v6 (tag mm320 and later,
#   from the driver's Offload.flags.fUsov4/6) and RscEnabledv4/v6 (mm268 and later, from the
#   offload configuration it reports to NDIS).
# - NDIS's copy of what NetKVM reports as its capabilities (NetKVM/wlh/ParaNdis6_Oid.cpp
#   FillOffloadStructure, from the same flags after the host's features cleared them):
#   Get-NetAdapterLso's LargeSendOffloadV2HardwareCapabilities (MaxOffloadSizeSupported is 0
#   when LSO is off) and Get-NetAdapterChecksumOffload's ChecksumOffloadHardwareCapabilities
#   (transmit and receive, per protocol). NetKvm_Config has no LSO or checksum field.
$driverFields = @{
  '*UsoIPv4' = @{ Source = 'NetKvm_Config'; Field = 'UsoEnabledv4' }
  '*UsoIPv6' = @{ Source = 'NetKvm_Config'; Field = 'UsoEnabledv6' }
  '*RscIPv4' = @{ Source = 'NetKvm_Config'; Field = 'RscEnabledv4' }
  '*RscIPv6' = @{ Source = 'NetKvm_Config'; Field = 'RscEnabledv6' }
  '*LsoV2IPv4' = @{ Source = 'LargeSendOffloadV2HardwareCapabilities'; Field = 'IPv4MaxOffloadSizeSupported' }
  '*LsoV2IPv6' = @{ Source = 'LargeSendOffloadV2HardwareCapabilities'; Field = 'IPv6MaxOffloadSizeSupported' }
  '*IPChecksumOffloadIPv4' = @{ Source = 'ChecksumOffloadHardwareCapabilities'; Tx = 'IPv4TransmitIpChecksumSupported'; Rx = 'IPv4ReceiveIpChecksumSupported' }
  '*TCPChecksumOffloadIPv4' = @{ Source = 'ChecksumOffloadHardwareCapabilities'; Tx = 'IPv4TransmitTcpChecksumSupported'; Rx = 'IPv4ReceiveTcpChecksumSupported' }
  '*TCPChecksumOffloadIPv6' = @{ Source = 'ChecksumOffloadHardwareCapabilities'; Tx = 'IPv6TransmitTcpChecksumSupported'; Rx = 'IPv6ReceiveTcpChecksumSupported' }
  '*UDPChecksumOffloadIPv4' = @{ Source = 'ChecksumOffloadHardwareCapabilities'; Tx = 'IPv4TransmitUdpChecksumSupported'; Rx = 'IPv4ReceiveUdpChecksumSupported' }
  '*UDPChecksumOffloadIPv6' = @{ Source = 'ChecksumOffloadHardwareCapabilities'; Tx = 'IPv6TransmitUdpChecksumSupported'; Rx = 'IPv6ReceiveUdpChecksumSupported' }
}
# The NetKVM registry value each driver state stands for: 0/1 for the pairs, 0 off, 1 Tx,
# 2 Rx, 3 Rx+Tx for the checksums.
function Get-WantedState($Field, [string]$Value) {
  if ($null -ne $Field.Tx) { return @('off', 'tx', 'rx', 'rxtx')[[int]$Value] }
  $(if ($Value -eq '0') { 'off' } else { 'on' })
}
# One capability of NDIS's copy, by name; $null where Windows or the driver lacks it.
function Get-CapabilityValue($Capabilities, [string]$Name) {
  if ($null -eq $Capabilities) { return $null }
  $p = $Capabilities.CimInstanceProperties[$Name]
  $(if ($null -eq $p) { $null } else { $p.Value })
}
# The driver's state for one keyword: 'on'/'off' (pairs), 'off'/'tx'/'rx'/'rxtx' (checksums),
# or 'unverified' where the build or Windows does not say.
function Get-DriverState($Field, $Config, $Lso, $Checksum) {
  if ($Field.Source -eq 'NetKvm_Config') { return Get-DriverFlag $Config $Field.Field }
  if ($Field.Source -eq 'LargeSendOffloadV2HardwareCapabilities') {
    $size = Get-CapabilityValue $Lso $Field.Field
    if ($null -eq $size) { return 'unverified' }
    return $(if ([long]$size -gt 0) { 'on' } else { 'off' })
  }
  $tx = Get-CapabilityValue $Checksum $Field.Tx
  $rx = Get-CapabilityValue $Checksum $Field.Rx
  if ($null -eq $tx -or $null -eq $rx) { return 'unverified' }
  @('off', 'tx', 'rx', 'rxtx')[([int][bool]$tx) + 2 * ([int][bool]$rx)]
}

function Get-RegistryText($Properties, [string]$Keyword) {
  $p = $Properties[$Keyword]
  $(if ($null -eq $p) { 'absent' } else { "$(@($p.RegistryValue) -join ',') ($($p.DisplayValue))" })
}

$adapter = Find-LabAdapter $AdapterName $AdapterMac
if ($null -eq $adapter) { [Console]::Error.WriteLine("guest-offloads: $(Get-LabAdapterWanted $AdapterName $AdapterMac)"); exit 2 }

$requested = @($Settings)
$props = Get-AdvancedProperties $adapter
# virtio-win 0.1.190 replaced the MTU keyword (IP MTU) with *JumboPacket (frame size).
if ($props.ContainsKey('MTU') -and -not $props.ContainsKey('*JumboPacket')) {
  $requested += @{ Keyword = 'MTU'; Value = $Mtu }
} else {
  $requested += @{ Keyword = '*JumboPacket'; Value = $JumboPacket }
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
$deadline = (Get-Date).AddSeconds($LinkWaitSeconds)
if ($changed) { $adapter | Restart-NetAdapter -Confirm:$false }
# Looked up again every second: while it restarts the adapter may be briefly absent.
do {
  $adapter = Find-LabAdapter $AdapterName $AdapterMac
  $readiness = Get-Readiness $adapter $HostAddress
  if ($readiness -eq 'ready') { break }
  Start-Sleep -Seconds 1
} while ((Get-Date) -lt $deadline)
if ($null -eq $adapter) { [Console]::Error.WriteLine("guest-offloads: after the restart, $(Get-LabAdapterWanted $AdapterName $AdapterMac)"); exit 2 }

$props = Get-AdvancedProperties $adapter
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

$config = Get-NetKvmWmi $adapter 'NetKvm_Config'
$lsoCaps = $null
$checksumCaps = $null
try { $lsoCaps = (Get-NetAdapterLso -Name $adapter.Name -ErrorAction Stop).LargeSendOffloadV2HardwareCapabilities } catch { $lsoCaps = $null }
try { $checksumCaps = (Get-NetAdapterChecksumOffload -Name $adapter.Name -ErrorAction Stop).ChecksumOffloadHardwareCapabilities } catch { $checksumCaps = $null }
$driver = @(foreach ($r in $Settings) {
  $field = $driverFields[$r.Keyword]
  if ($null -eq $field) { continue }
  $wanted = Get-WantedState $field $r.Value
  $got = Get-DriverState $field $config $lsoCaps $checksumCaps
  $name = $(if ($null -ne $field.Tx) { "$($field.Source).$($field.Tx)/$($field.Rx)" } else { "$($field.Source).$($field.Field)" })
  if ($got -ne 'unverified' -and $got -ne $wanted) {
    $fail += "$($where): $name requested $wanted, actual $got while the registry says $(Get-RegistryText $props $r.Keyword)"
  }
  [ordered]@{ keyword = $r.Keyword; field = $name; requested = $wanted; actual = $got }
})
$usoDriver = [ordered]@{ ipv4 = Get-DriverFlag $config 'UsoEnabledv4'; ipv6 = Get-DriverFlag $config 'UsoEnabledv6' }
$ipInterface = @(Get-NetIPInterface -InterfaceIndex $adapter.ifIndex -AddressFamily IPv4 -ErrorAction SilentlyContinue)[0]
$ipMtu = $(if ($null -ne $ipInterface) { [long]$ipInterface.NlMtu } else { $null })
# The device's MTU (VIRTIO_NET_F_MTU) wins over *JumboPacket: check what the adapter really has.
if ("$($adapter.MtuSize)" -ne $Mtu) { $fail += "$($where): MtuSize requested $Mtu, actual $(if ($null -eq $adapter.MtuSize) { 'absent' } else { $adapter.MtuSize })" }
if ("$ipMtu" -ne $Mtu) { $fail += "$($where): NlMtu requested $Mtu, actual $(if ($null -eq $ipMtu) { 'absent' } else { $ipMtu })" }

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
  driver = $driver
  netkvmBuild = Get-NetKvmBuild
  netkvmConfig = $config
  netkvmDiag = Get-NetKvmWmi $adapter 'NetKvm_Diag'
}
[Console]::Out.WriteLine((ConvertTo-Json -InputObject $readBack -Depth 6 -Compress))
if ($fail.Count -gt 0) {
  [Console]::Error.WriteLine("offload settings did not take: " + ($fail -join '; '))
  exit 1
}
} @offloadLabParameters
OFFLOAD_LAB_GUEST_SCRIPT_dc21d4ea61b4269e
