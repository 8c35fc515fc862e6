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
guest_exec <<'OFFLOAD_LAB_GUEST_SCRIPT_74e45ca02e9c7ffe'
# offload-lab guest-network (Windows guest)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$adapterMac = '52-54-00-4E-4B-01'
$adapterWanted = "no network adapter with MAC $adapterMac in the guest (set guest.adapterName to name it)"
$adapter = @(Get-NetAdapter -Physical -ErrorAction SilentlyContinue | Where-Object { $_.MacAddress -eq $adapterMac })[0]
if ($null -eq $adapter) { [Console]::Error.WriteLine("guest-network: $adapterWanted"); exit 2 }
$hostAddress = '192.168.122.1'
$wantAddress = ''
$wait = 180
$waited = 0
while ($true) {
  $state = [string](Get-NetAdapter -InterfaceIndex $adapter.ifIndex).Status
  $addresses = @(Get-NetIPAddress -InterfaceIndex $adapter.ifIndex -AddressFamily IPv4 -ErrorAction SilentlyContinue |
    Where-Object { $_.AddressState -eq 'Preferred' } | ForEach-Object { "$($_.IPAddress)/$($_.PrefixLength)" })
  # Find-NetRoute returns the source address and the route; only the route says which interface.
  $route = @(Find-NetRoute -RemoteIPAddress $hostAddress -ErrorAction SilentlyContinue |
    Where-Object { $_.CimClass.CimClassName -eq 'MSFT_NetRoute' })[0]
  $missing = $null
  if ($state -ne 'Up') {
    $missing = "adapter $($adapter.Name) is $state, not Up"
  } elseif ($wantAddress -ne '' -and -not ($addresses | Where-Object { $_.StartsWith("$wantAddress/") })) {
    $missing = "adapter $($adapter.Name) has no address $wantAddress (it has: $(if ($addresses.Count) { $addresses -join ' ' } else { 'none' }))"
  } elseif ($addresses.Count -eq 0) {
    $missing = "adapter $($adapter.Name) has no IPv4 address"
  } elseif ($null -eq $route -or $route.InterfaceIndex -ne $adapter.ifIndex) {
    $missing = "no route to the host $hostAddress through adapter $($adapter.Name)"
  }
  if ($null -eq $missing) { break }
  if ($waited -ge $wait) {
    [Console]::Error.WriteLine("guest-network: after $wait s, $($missing): the matrix could not reach the iperf3 server")
    exit 1
  }
  Start-Sleep -Seconds 1
  $waited++
}
$result = [ordered]@{
  interface = $adapter.Name
  operstate = $state
  addresses = $addresses
  route = "$($route.DestinationPrefix) via $($route.NextHop) ifIndex $($route.InterfaceIndex)"
  waitedSeconds = $waited
}
[Console]::Out.WriteLine((ConvertTo-Json -InputObject $result -Compress))
OFFLOAD_LAB_GUEST_SCRIPT_74e45ca02e9c7ffe
