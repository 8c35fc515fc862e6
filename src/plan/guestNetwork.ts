import type { LabConfig } from "../config/model";
import { linuxInterfaceSh } from "./offload/linuxInterface";
import { JSON_SH_FUNCTIONS } from "./offload/shLib";
import { windowsAdapterPs } from "./offload/windowsAdapter";
import { ps, sh } from "./quote";
import type { Step } from "./step";
import type { Transport } from "./transport/transport";
import { GUEST_SSH_KEY_ENV } from "./transport/ssh";

export const GUEST_NETWORK_STEP = "guest-network";

/**
 * How long the guest may take, after its offloads are set, to have its lab address and a
 * route to the host. Under TCG the agent answers some 30 s before systemd-networkd has even
 * brought eth0 up, and DHCP follows after that; a real guest is there in a second.
 */
export const GUEST_NETWORK_WAIT_SECONDS = 180;

/**
 * The guest, through its transport, waits until what the matrix needs is there: its lab
 * interface up, its IPv4 address (the configured one, when known), and a route to the host's
 * address through that interface. Without it the first cells run before DHCP has answered and
 * fail with "Network is unreachable". Prints one JSON document (results/guestNetwork.ts);
 * exits 1 naming what is still missing when the wait runs out.
 */
export function guestNetworkStep(cfg: LabConfig, transport: Transport): Step {
  const windows = cfg.guest.os === "windows";
  const secretEnv = transport.functionDefinition.includes(GUEST_SSH_KEY_ENV)
    ? { secretEnv: { [GUEST_SSH_KEY_ENV]: "guestSshPrivateKey" } }
    : {};
  return {
    name: GUEST_NETWORK_STEP,
    component: "LabGuest",
    runsOn: "guest",
    language: windows ? "ps1" : "sh",
    create: windows ? windowsGuestNetwork(cfg) : linuxGuestNetwork(cfg),
    // After the offloads: an MTU change there can take the link down and up again.
    dependsOn: ["guest-offloads"],
    triggers: [JSON.stringify({ host: cfg.network.hostAddress, guest: cfg.network.guestAddress ?? null })],
    ...secretEnv,
  };
}

function linuxGuestNetwork(cfg: LabConfig): string {
  return `# offload-lab guest-network (Linux guest)
set -u
${JSON_SH_FUNCTIONS}
${linuxInterfaceSh(cfg, GUEST_NETWORK_STEP)}
OL_HOST=${sh(cfg.network.hostAddress)}
OL_WANT_ADDRESS=${sh(cfg.network.guestAddress ?? "")}
OL_WAIT=${sh(GUEST_NETWORK_WAIT_SECONDS)}
ol_waited=0
while :; do
  ol_state=$(cat "/sys/class/net/$OL_DEV/operstate" 2>/dev/null || echo absent)
  ol_addresses=$(ip -4 -o addr show dev "$OL_DEV" scope global 2>/dev/null | awk '{ print $4 }')
  # First line only: "HOST dev DEV src ADDR ..."; -o would append a backslash and "cache".
  ol_route=$(ip -4 route get "$OL_HOST" 2>&1 | sed -n 1p)
  ol_missing=
  if [ "$ol_state" != up ]; then
    ol_missing="$OL_DEV is $ol_state, not up"
  elif [ -n "$OL_WANT_ADDRESS" ] && ! printf '%s\\n' "$ol_addresses" | grep -qx "$OL_WANT_ADDRESS/[0-9]*"; then
    ol_missing="$OL_DEV has no address $OL_WANT_ADDRESS (it has: $(echo \${ol_addresses:-none}))"
  elif [ -z "$ol_addresses" ]; then
    ol_missing="$OL_DEV has no IPv4 address"
  else
    case "$ol_route " in
      *" dev $OL_DEV "*) ;;
      *) ol_missing="no route to the host $OL_HOST through $OL_DEV (ip route get: $ol_route)" ;;
    esac
  fi
  [ -n "$ol_missing" ] || break
  if [ "$ol_waited" -ge "$OL_WAIT" ]; then
    echo "${GUEST_NETWORK_STEP}: after $OL_WAIT s, $ol_missing: the matrix could not reach the iperf3 server" >&2
    exit 1
  fi
  sleep 1
  ol_waited=$((ol_waited + 1))
done
printf '{"interface":%s,"operstate":%s,"addresses":%s,"route":%s,"waitedSeconds":%s}\\n' \\
  "$(printf '%s' "$OL_DEV" | ol_json_string)" \\
  "$(printf '%s' "$ol_state" | ol_json_string)" \\
  "$(printf '%s\\n' "$ol_addresses" | ol_json_lines)" \\
  "$(printf '%s' "$ol_route" | ol_json_string)" \\
  "$ol_waited"
`;
}

function windowsGuestNetwork(cfg: LabConfig): string {
  return `# offload-lab guest-network (Windows guest)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
${windowsAdapterPs(cfg, GUEST_NETWORK_STEP)}
$hostAddress = ${ps(cfg.network.hostAddress)}
$wantAddress = ${ps(cfg.network.guestAddress ?? "")}
$wait = ${GUEST_NETWORK_WAIT_SECONDS}
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
    [Console]::Error.WriteLine("${GUEST_NETWORK_STEP}: after $wait s, $($missing): the matrix could not reach the iperf3 server")
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
`;
}
