import type { LabConfig } from "../../config/model";
import type { Step } from "../step";
import { HOST_READINESS_STEP } from "../hostReadiness";
import { bash, hostScript } from "./hostScript";
import { dedicatedNetworkXml } from "./networkXml";

export const NETWORK_STEP = "network";

/**
 * Adopt mode keeps the network's original definition inside the network itself, as base64
 * in a <metadata> element: delete restores it from there, and no state file on the host can
 * go stale or be lost.
 */
const SAVED_NS = "urn:offload-lab:adopted-network";
const SAVED_ELEMENT = "offloadlab:original";

/** Bash: starts the network, restarting it when its definition or bridge MTU changed, and reads back. */
const START_AND_READ_BACK = bash`
net_field() { virsh -c "$URI" net-info --network "$NET" | awk -v k="$1:" '$1 == k { print $2 }'; }
bridge=$(net_field Bridge)
[ -n "$bridge" ] || fail "network $NET has no bridge"
if [ "$(net_field Active)" = yes ]; then
  live_mtu=$(cat "/sys/class/net/$bridge/mtu" 2>/dev/null || echo none)
  if [ "$before" != "$after" ] || [ "$live_mtu" != "$MTU" ]; then
    note "restarting network $NET to apply its definition (running guests lose their tap until the guest-domain step plugs it back)"
    virsh -c "$URI" net-destroy --network "$NET" >&2
  fi
fi
[ "$(net_field Active)" = yes ] || virsh -c "$URI" net-start --network "$NET" >&2
bridge=$(net_field Bridge)
mtu=$(cat "/sys/class/net/$bridge/mtu" 2>/dev/null) || fail "bridge $bridge of network $NET is not on this host"
[ "$mtu" = "$MTU" ] || fail "bridge $bridge has MTU $mtu after start, configured $MTU"
printf '{"network":%s,"mode":%s,"bridge":%s,"mtu":%s}\n' "$(json_str "$NET")" "$(json_str "$MODE")" "$(json_str "$bridge")" "$mtu"
`;

const DEDICATED_CREATE = bash`
before=$(virsh -c "$URI" net-dumpxml --inactive --network "$NET" 2>/dev/null || true)
virsh -c "$URI" net-define --file "$work/network.xml" >&2
after=$(virsh -c "$URI" net-dumpxml --inactive --network "$NET")
${START_AND_READ_BACK}`;

const DEDICATED_DELETE = bash`
if virsh -c "$URI" net-info --network "$NET" >/dev/null 2>&1; then
  if [ "$(virsh -c "$URI" net-info --network "$NET" | awk '$1 == "Active:" { print $2 }')" = yes ]; then
    virsh -c "$URI" net-destroy --network "$NET" >&2
  fi
  if virsh -c "$URI" net-info --network "$NET" >/dev/null 2>&1; then
    virsh -c "$URI" net-undefine --network "$NET" >&2
  fi
else
  note "network $NET is already gone"
fi
`;

const savedPattern = `<${SAVED_ELEMENT}[^>]*>\\([A-Za-z0-9+/=]*\\)</${SAVED_ELEMENT}>`;

const ADOPT_CREATE = bash`
virsh -c "$URI" net-dumpxml --inactive --network "$NET" > "$work/current.xml" 2>"$work/err" \
  || fail "network $NET to adopt is not defined at $URI ($(cat "$work/err")); define it or use network.mode dedicated"
sed -n 1p "$work/current.xml" | grep '^<network[ >]' >/dev/null || fail "unexpected XML from net-dumpxml $NET"
before=$(cat "$work/current.xml")
saved=""
if ! grep -q '<${SAVED_ELEMENT}[ >]' "$work/current.xml"; then
  active=$(virsh -c "$URI" net-info --network "$NET" | awk '$1 == "Active:" { print $2 }')
  saved="<${SAVED_ELEMENT} xmlns:offloadlab=\"${SAVED_NS}\" active=\"$active\">$(base64 -w0 "$work/current.xml")</${SAVED_ELEMENT}>"
  note "saved the original definition of network $NET (restored on delete)"
fi
# libvirt prints <metadata> and <mtu> on lines of their own; element order does not matter to it.
awk -v mtu="  <mtu size='$MTU'/>" -v saved="$saved" '
  /^[[:space:]]*<mtu size=.[0-9]+.\/>[[:space:]]*$/ { next }
  /^[[:space:]]*<metadata>[[:space:]]*$/ && saved != "" { print; print "    " saved; saved = ""; next }
  { print }
  NR == 1 { print mtu; if (saved != "") { print "  <metadata>" saved "</metadata>"; saved = "" } }
' "$work/current.xml" > "$work/network.xml"
virsh -c "$URI" net-define --file "$work/network.xml" >&2
after=$(virsh -c "$URI" net-dumpxml --inactive --network "$NET")
${START_AND_READ_BACK}`;

const ADOPT_DELETE = bash`
if ! virsh -c "$URI" net-dumpxml --inactive --network "$NET" > "$work/current.xml" 2>/dev/null; then
  note "network $NET is gone: nothing to restore"
  exit 0
fi
saved=$(sed -n 's|.*${savedPattern}.*|\1|p' "$work/current.xml")
if [ -z "$saved" ]; then
  note "network $NET carries no saved definition: already restored"
  exit 0
fi
was_active=$(grep -o '<${SAVED_ELEMENT}[^>]*active="[a-z]*"' "$work/current.xml" | sed 's/.*active="\([a-z]*\)"/\1/')
printf '%s' "$saved" | base64 -d > "$work/original.xml"
virsh -c "$URI" net-define --file "$work/original.xml" >&2
if [ "$(virsh -c "$URI" net-info --network "$NET" | awk '$1 == "Active:" { print $2 }')" = yes ]; then
  virsh -c "$URI" net-destroy --network "$NET" >&2
fi
if [ "$was_active" = yes ]; then virsh -c "$URI" net-start --network "$NET" >&2; fi
note "restored the original definition of network $NET"
`;

/**
 * The lab network at the configured MTU. Adopt mode takes over an existing network (libvirt's
 * `default`) and gives it back unchanged on delete; dedicated mode owns its own network.
 */
export function networkStep(cfg: LabConfig): Step {
  const n = cfg.network;
  const vars = { URI: cfg.libvirt.uri, NET: n.name, MODE: n.mode, MTU: n.mtu };
  if (n.mode === "adopt") {
    return {
      name: NETWORK_STEP,
      component: "LabNetwork",
      runsOn: "host",
      language: "sh",
      create: hostScript(vars, ADOPT_CREATE),
      delete: hostScript(vars, ADOPT_DELETE),
      dependsOn: [HOST_READINESS_STEP],
      triggers: [cfg.libvirt.uri, n.mode, n.name, String(n.mtu)],
    };
  }
  const xml = dedicatedNetworkXml(cfg);
  return {
    name: NETWORK_STEP,
    component: "LabNetwork",
    runsOn: "host",
    language: "sh",
    create: hostScript(vars, DEDICATED_CREATE, [{ file: "network.xml", content: xml }]),
    delete: hostScript(vars, DEDICATED_DELETE),
    dependsOn: [HOST_READINESS_STEP],
    triggers: [cfg.libvirt.uri, n.mode, xml],
    documents: [{ file: "network.xml", content: xml }],
  };
}
