import type { LabConfig } from "../../config/model";
import { sh } from "../quote";
import { checkFeaturesSh, ETHTOOL_SH_FUNCTIONS, JSON_SH_FUNCTIONS, setFeaturesSh } from "./shLib";
import { linuxInterfaceSh } from "./linuxInterface";
import { linuxRequest } from "./request";

/** What `off [fixed]` for USO means on virtio-net: the device never offered the feature. */
export const USO_NOT_OFFERED =
  "the virtio-net device does not offer USO (QEMU's host_uso is off, or QEMU is older than 8.2): set guest.virtioNetFeatures host_uso on";
export const USO_FIXED_OFF = "tx-udp-segmentation requested on, actual off [fixed]";

/**
 * The offload profile for a Linux guest as one POSIX sh script: `ethtool -K` per feature and
 * `ip link set mtu`, then `ethtool -k` and `ip -j link` read back and printed as one JSON
 * document (parsed by src/results/offload.ts). A setting that did not take fails the script
 * with the same message the pure comparison gives.
 */
export function linuxOffloadScript(cfg: LabConfig): string {
  const req = linuxRequest(cfg);
  return `# offload-lab guest-offloads (Linux guest, stack ${cfg.stack.replace(/[^\w.-]/g, "_")})
set -u
${JSON_SH_FUNCTIONS}
${ETHTOOL_SH_FUNCTIONS}
${linuxInterfaceSh(cfg, "guest-offloads")}
OL_MTU=${sh(req.mtu)}
OL_SET_ERRORS=
OL_FAIL=
if [ "$(cat "/sys/class/net/$OL_DEV/mtu")" != "$OL_MTU" ]; then
  ol_err=$(ip link set dev "$OL_DEV" mtu "$OL_MTU" 2>&1) || OL_SET_ERRORS="$OL_SET_ERRORS$OL_DEV mtu $OL_MTU: $ol_err
"
fi
${setFeaturesSh("OL_DEV", req.features)}
OL_K=$(ethtool -k "$OL_DEV") || { echo "guest-offloads: ethtool -k $OL_DEV failed" >&2; exit 2; }
OL_LINK=$(ip -j link show dev "$OL_DEV") || { echo "guest-offloads: ip -j link show $OL_DEV failed" >&2; exit 2; }
${checkFeaturesSh('"guest $OL_DEV"', req.features)}
ol_mtu_now=$(cat "/sys/class/net/$OL_DEV/mtu")
[ "$ol_mtu_now" = "$OL_MTU" ] || OL_FAIL="\${OL_FAIL}guest $OL_DEV: mtu requested $OL_MTU, actual $ol_mtu_now; "
case $OL_FAIL in *${sh(USO_FIXED_OFF)}*) OL_FAIL="\${OL_FAIL}"${sh(USO_NOT_OFFERED)}"; " ;; esac
printf '{"interface":%s,"ethtoolK":%s,"ipLink":%s,"setErrors":%s}\\n' \\
  "$(printf '%s' "$OL_DEV" | ol_json_string)" \\
  "$(printf '%s\\n' "$OL_K" | ol_json_string)" \\
  "$OL_LINK" \\
  "$(printf '%s' "$OL_SET_ERRORS" | ol_json_string)"
if [ -n "$OL_FAIL" ]; then
  echo "offload settings did not take: \${OL_FAIL%; }" >&2
  exit 1
fi
`;
}
