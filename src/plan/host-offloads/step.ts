import { createHash } from "node:crypto";
import type { LabConfig } from "../../config/model";
import { canonicalJson } from "../canonicalJson";
import { hostRequest, printedFeatureName, type HostDeviceRequest } from "../offload/request";
import { scriptFile } from "../script/files";
import { hostScript } from "../script/hostScript";
import type { Step } from "../step";
import { parseHostReadBack, type HostReadBack } from "./output";

const ETHTOOL_LIB = scriptFile(__dirname, "../offload/ethtool-lib.sh");
const STATE_LIB = scriptFile(__dirname, "state-lib.sh");
const CREATE = scriptFile(__dirname, "create.sh");
const DELETE = scriptFile(__dirname, "delete.sh");

/** Where the host script keeps each device's features from before the lab changed them. */
const STATE_DIR = "/var/lib/offload-lab/state";

/** Names one request of one device: delete leaves a device whose owner is a newer request. */
function requestId(d: HostDeviceRequest): string {
  return createHash("sha256").update(JSON.stringify([d.role, d.device, d.features])).digest("hex").slice(0, 16);
}

function describe(d: HostDeviceRequest): string {
  return `${d.role} ${d.device} (${d.features.map(([f, v]) => `${f} ${v}`).join(", ")})`;
}

/**
 * `ethtool -K` on the guest's tap and on the bridge per `hostOffloads`, read back with
 * `ethtool -k`; the script fails when a feature did not take. The first run saves each
 * device's features; delete restores, for every feature any run changed, what the device had
 * before the lab.
 */
export function hostOffloadsStep(cfg: LabConfig, after: { guestDomain: Step }): Step<HostReadBack> {
  const requests = hostRequest(cfg);
  const devices = {
    STATE_DIR,
    DEVICES: requests.map((d) => d.device),
    OWNERS: requests.map(requestId),
  };
  const features = requests.flatMap((d, i) => d.features.map(([feature, want]) => ({ device: i, feature, want })));
  return {
    name: "host-offloads",
    component: "OffloadProfile",
    runsOn: "host",
    create: hostScript({
      step: "host-offloads",
      file: CREATE,
      libraries: [ETHTOOL_LIB, STATE_LIB],
      values: {
        ...devices,
        ROLES: requests.map((d) => d.role),
        FEATURE_DEVICE: features.map((f) => f.device),
        FEATURES: features.map((f) => f.feature),
        FEATURE_PRINTED: features.map((f) => printedFeatureName(f.feature)),
        FEATURE_WANT: features.map((f) => f.want),
      },
    }),
    delete: hostScript({ step: "host-offloads", file: DELETE, libraries: [STATE_LIB], values: devices }),
    dependsOn: [after.guestDomain],
    triggers: [canonicalJson(cfg.hostOffloads)],
    effect: requests.length === 0
      ? { changes: "nothing: hostOffloads asks nothing of the tap or the bridge", undo: "nothing to put back" }
      : {
          changes: `sets ${requests.map(describe).join(" and ")} with ethtool -K, saving each device's features first in ${STATE_DIR}`,
          undo: `restores the saved features of ${requests.map((d) => `${d.role} ${d.device}`).join(" and ")}`,
        },
    parse: (stdout) => parseHostReadBack(requests, stdout),
  };
}
