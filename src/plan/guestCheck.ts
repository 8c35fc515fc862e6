import type { LabConfig } from "../config/model";
import { JSON_SH_FUNCTIONS } from "./offload/shLib";
import { linuxInterfaceLookupSh } from "./offload/linuxInterface";
import { windowsAdapterLookupPs } from "./offload/windowsAdapter";
import { ps, sh } from "./quote";

/**
 * The first guest step: checks that the base image has what the lab needs and names
 * everything missing at once (docs/windows-guest.md says how to add it). Prints one JSON
 * document (parsed by src/results/offloadGuestCheck.ts); exits 1 when something is missing.
 */
export function guestCheckScript(cfg: LabConfig): string {
  return cfg.guest.os === "windows" ? windowsGuestCheck(cfg) : linuxGuestCheck(cfg);
}

function windowsGuestCheck(cfg: LabConfig): string {
  return `# offload-lab guest-check (Windows guest)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$missing = @()
${windowsAdapterLookupPs(cfg)}
if ($null -eq $adapter) {
  $missing += $adapterWanted
} elseif ($adapter.DriverFileName -ne 'netkvm.sys') {
  $missing += "NetKVM driver on adapter $($adapter.Name) (it uses $($adapter.DriverFileName)): install it from the virtio-win ISO"
}
$iperf3 = ${ps(cfg.guest.iperf3Path)}
$iperf3Version = $null
if (Test-Path -LiteralPath $iperf3 -PathType Leaf) {
  # Windows PowerShell turns a native command's stderr into a terminating error under 'Stop'.
  $ErrorActionPreference = 'Continue'
  try {
    $iperf3Output = @(& $iperf3 --version 2>&1 | ForEach-Object { "$_" })
    $iperf3Exit = $LASTEXITCODE
  } catch {
    # A missing DLL stops the program from starting at all.
    $iperf3Output = @($_.Exception.Message)
    $iperf3Exit = 'none'
  }
  $ErrorActionPreference = 'Stop'
  if ($iperf3Exit -eq 0 -and $iperf3Output.Count -gt 0) {
    $iperf3Version = $iperf3Output[0]
  } else {
    $missing += "a working iperf3 at $($iperf3) (--version exit code $($iperf3Exit): $($iperf3Output -join ' '))"
  }
} else {
  $missing += "iperf3 at $iperf3 (guest.iperf3Path)"
}
$agent = Get-Service -Name 'QEMU-GA' -ErrorAction SilentlyContinue
${cfg.guest.access === "agent" ? `# This script arrived through the agent, so the agent works; record its state anyway.
` : `if ($null -eq $agent) { [Console]::Error.WriteLine('guest-check: note: no QEMU guest agent service (not needed with guest.access ssh)') }
`}$os = Get-CimInstance Win32_OperatingSystem
$result = [ordered]@{
  ok = ($missing.Count -eq 0)
  missing = $missing
  windows = "$($os.Caption) (build $($os.BuildNumber))"
  adapter = $(if ($null -ne $adapter) { $adapter.Name } else { $null })
  driverFileName = $(if ($null -ne $adapter) { $adapter.DriverFileName } else { $null })
  driverVersion = $(if ($null -ne $adapter) { $adapter.DriverVersion } else { $null })
  iperf3Path = $iperf3
  iperf3Version = $iperf3Version
  agentService = $(if ($null -ne $agent) { [string]$agent.Status } else { $null })
}
[Console]::Out.WriteLine((ConvertTo-Json -InputObject $result -Compress))
if ($missing.Count -gt 0) {
  [Console]::Error.WriteLine("guest-check: the guest image lacks: " + ($missing -join '; ') + ' (see docs/windows-guest.md)')
  exit 1
}
`;
}

/** The gso sender is iperf3 --gsro: an older iperf3 would fail every gso cell, so say it here. */
function gsoCheck(cfg: LabConfig): string {
  if (!cfg.matrix.senders.includes("gso")) return "";
  return `  if ! "$OL_IPERF3" --help 2>&1 | grep -q -- '--gsro'; then
    OL_MISSING="\${OL_MISSING}iperf3 with --gsro (3.21 or newer) for matrix.senders gso, not $OL_IPERF3_VERSION
"
  fi
`;
}

function linuxGuestCheck(cfg: LabConfig): string {
  return `# offload-lab guest-check (Linux guest)
set -u
${JSON_SH_FUNCTIONS}
OL_MISSING=
for ol_tool in ethtool ip awk sed tr; do
  command -v "$ol_tool" >/dev/null 2>&1 || OL_MISSING="$OL_MISSING$ol_tool
"
done
if command -v ip >/dev/null 2>&1 && ! ip -j link show >/dev/null 2>&1; then
  OL_MISSING="\${OL_MISSING}ip with JSON output (-j): iproute2 4.14 or newer
"
fi
OL_IPERF3=${sh(cfg.guest.iperf3Path)}
OL_IPERF3_VERSION=
if command -v "$OL_IPERF3" >/dev/null 2>&1; then
  OL_IPERF3_VERSION=$("$OL_IPERF3" --version 2>&1 | sed -n 1p)
${gsoCheck(cfg)}else
  OL_MISSING="\${OL_MISSING}iperf3 at $OL_IPERF3 (guest.iperf3Path)
"
fi
${linuxInterfaceLookupSh(cfg)}
[ -n "$OL_DEV" ] || OL_MISSING="$OL_MISSING$OL_DEV_WANTED
"
OL_MISSING=\${OL_MISSING%
}
printf '{"ok":%s,"missing":%s,"interface":%s,"iperf3Path":%s,"iperf3Version":%s,"kernel":%s}\\n' \\
  "$([ -z "$OL_MISSING" ] && echo true || echo false)" \\
  "$(if [ -n "$OL_MISSING" ]; then printf '%s\\n' "$OL_MISSING"; fi | ol_json_lines)" \\
  "$(printf '%s' "$OL_DEV" | ol_json_string)" \\
  "$(printf '%s' "$OL_IPERF3" | ol_json_string)" \\
  "$(printf '%s' "$OL_IPERF3_VERSION" | ol_json_string)" \\
  "$(uname -r | ol_json_string)"
if [ -n "$OL_MISSING" ]; then
  echo "guest-check: the guest image lacks: $(printf '%s\\n' "$OL_MISSING" | awk 'NR > 1 { printf "; " } { printf "%s", $0 }')" >&2
  exit 1
fi
`;
}
