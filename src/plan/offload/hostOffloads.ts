import { createHash } from "node:crypto";
import type { LabConfig } from "../../config/model";
import { sh } from "../quote";
import { checkFeaturesSh, ETHTOOL_SH_FUNCTIONS, JSON_SH_FUNCTIONS, setFeaturesSh } from "./shLib";
import { hostRequest, printedFeatureName, type HostDeviceRequest } from "./request";

/** Where the host script keeps each device's `ethtool -k` from before the lab changed it. */
export const HOST_STATE_DIR = "/var/lib/offload-lab/state";

export function savedStateFile(stateDir: string, device: string): string {
  return `${stateDir}/ethtool-k.${device}`;
}

/** Every feature any create changed since the state was saved: `feature printed-name` lines. */
function touchedFile(stateDir: string, device: string): string {
  return `${stateDir}/touched.${device}`;
}

/**
 * The request of the create that last ran on the device. Pulumi replaces a command by
 * creating the new one before deleting the old one; the old delete sees a newer owner and
 * leaves the device to it, so a trigger change does not undo the new settings.
 */
function ownerFile(stateDir: string, device: string): string {
  return `${stateDir}/owner.${device}`;
}

function requestId(d: HostDeviceRequest): string {
  return createHash("sha256").update(JSON.stringify([d.role, d.device, d.features])).digest("hex").slice(0, 16);
}

/**
 * Bash for the KVM host: `ethtool -K` on the guest's tap and on the bridge per
 * `hostOffloads`, read back with `ethtool -k` and printed as one JSON document (parsed by
 * src/results/offload.ts). The first run saves each device's features; a re-run keeps that
 * file, so delete restores what the device had before the lab, for every feature any run
 * changed. Delete restores the tap before the bridge, whose features follow its ports'.
 */
export function hostOffloadsCreate(cfg: LabConfig, stateDir = HOST_STATE_DIR): string {
  const devices = hostRequest(cfg);
  return `# offload-lab host-offloads: ethtool -K on the guest's tap and the bridge
set -euo pipefail
${JSON_SH_FUNCTIONS}
${ETHTOOL_SH_FUNCTIONS}
OL_STATE_DIR=${sh(stateDir)}
mkdir -p "$OL_STATE_DIR"
OL_FAIL=
OL_SET_ERRORS=
OL_DEVICES=
${devices.map((d) => deviceSave(d, stateDir)).join("\n")}
${devices.map(deviceSet).join("\n")}
${devices.map(deviceCheck).join("\n")}
printf '{"devices":[%s],"setErrors":%s}\\n' "$OL_DEVICES" "$(printf '%s' "$OL_SET_ERRORS" | ol_json_string)"
if [[ -n $OL_FAIL ]]; then
  echo "offload settings did not take: \${OL_FAIL%; }" >&2
  exit 1
fi
`;
}

/** Saves every device before any changes: a bridge's features follow its ports' features. */
function deviceSave(d: HostDeviceRequest, stateDir: string): string {
  const what = d.role === "tap" ? "the guest's tap (is the domain running?)" : "the lab's bridge (network.bridge)";
  return `
# ${d.role} ${d.device}: save its features once, before the lab changes anything
OL_DEV=${sh(d.device)}
OL_SAVED=${sh(savedStateFile(stateDir, d.device))}
[[ -e /sys/class/net/$OL_DEV ]] || { echo "host-offloads: no device $OL_DEV on the host: ${what}" >&2; exit 2; }
if [[ ! -e $OL_SAVED ]]; then
  ethtool -k "$OL_DEV" >"$OL_SAVED.tmp"
  mv "$OL_SAVED.tmp" "$OL_SAVED"
fi
OL_TOUCHED=${sh(touchedFile(stateDir, d.device))}
printf '%s\\n' ${d.features.map(([f]) => sh(`${f} ${printedFeatureName(f)}`)).join(" ")} >>"$OL_TOUCHED"
awk '!seen[$0]++' "$OL_TOUCHED" >"$OL_TOUCHED.tmp"
mv "$OL_TOUCHED.tmp" "$OL_TOUCHED"
echo ${requestId(d)} >${sh(ownerFile(stateDir, d.device))}`;
}

function deviceSet(d: HostDeviceRequest): string {
  return `
# ${d.role} ${d.device}
OL_DEV=${sh(d.device)}
${setFeaturesSh("OL_DEV", d.features)}`;
}

/** Read back after all devices are set, for the same reason. */
function deviceCheck(d: HostDeviceRequest): string {
  return `
# ${d.role} ${d.device}
OL_DEV=${sh(d.device)}
OL_K=$(ethtool -k "$OL_DEV")
${checkFeaturesSh(`"${d.role} $OL_DEV"`, d.features)}
OL_DEVICES="$OL_DEVICES\${OL_DEVICES:+,}{\\"role\\":\\"${d.role}\\",\\"device\\":$(printf '%s' "$OL_DEV" | ol_json_string),\\"ethtoolK\\":$(printf '%s\\n' "$OL_K" | ol_json_string)}"`;
}

/**
 * Puts back, from the saved file, each feature any create changed, then removes the state
 * files, unless a newer create owns the device. A device that is gone (the domain was
 * destroyed first) has nothing to restore; a feature the device refuses is reported on
 * stderr, not fatal, so the stack can be deleted.
 */
export function hostOffloadsDelete(cfg: LabConfig, stateDir = HOST_STATE_DIR): string {
  return `# offload-lab host-offloads delete: restore the features saved before the lab
set -euo pipefail
${hostRequest(cfg).map((d) => deviceDelete(d, stateDir)).join("\n")}
`;
}

function deviceDelete(d: HostDeviceRequest, stateDir: string): string {
  const id = requestId(d);
  return `
# ${d.role} ${d.device}
OL_DEV=${sh(d.device)}
OL_SAVED=${sh(savedStateFile(stateDir, d.device))}
OL_TOUCHED=${sh(touchedFile(stateDir, d.device))}
OL_OWNER=${sh(ownerFile(stateDir, d.device))}
if [[ -e $OL_OWNER && $(cat "$OL_OWNER") != ${id} ]]; then
  echo "host-offloads delete: $OL_DEV was set again by a newer host-offloads; leaving it to that one" >&2
elif [[ -e $OL_SAVED ]]; then
  if [[ -e /sys/class/net/$OL_DEV && -e $OL_TOUCHED ]]; then
    while read -r ol_feature ol_printed; do
      ol_was=$(sed -n -E "s/^[[:space:]]*$ol_printed: (on|off).*/\\1/p" "$OL_SAVED" | sed -n 1p)
      if [[ -n $ol_was ]] && ! ol_err=$(ethtool -K "$OL_DEV" "$ol_feature" "$ol_was" 2>&1); then
        echo "host-offloads delete: could not restore $ol_feature $ol_was on $OL_DEV: $ol_err" >&2
      fi
    done <"$OL_TOUCHED"
  fi
  rm -f "$OL_SAVED" "$OL_TOUCHED" "$OL_OWNER"
fi`;
}
