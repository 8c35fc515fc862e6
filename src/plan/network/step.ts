import type { LabConfig } from "../../config/model";
import { scriptFile } from "../script/files";
import { hostScript } from "../script/hostScript";
import type { Step } from "../step";
import { dedicatedNetworkXml } from "./networkXml";
import { parseNetworkOutput, type NetworkOutput } from "./output";

const NETWORK_LIB = scriptFile(__dirname, "network-lib.sh");
const START_LIB = scriptFile(__dirname, "start-lib.sh");
const ADOPT_LIB = scriptFile(__dirname, "adopt-lib.sh");
const CREATE_ADOPT = scriptFile(__dirname, "create-adopt.sh");
const DELETE_ADOPT = scriptFile(__dirname, "delete-adopt.sh");
const CREATE_DEDICATED = scriptFile(__dirname, "create-dedicated.sh");
const DELETE_DEDICATED = scriptFile(__dirname, "delete-dedicated.sh");

/**
 * The lab network at the configured MTU. Adopt mode takes over an existing network (libvirt's
 * `default`) and gives it back unchanged on delete; dedicated mode owns its own network.
 */
export function networkStep(cfg: LabConfig, after: { hostReadiness: Step }): Step<NetworkOutput> {
  const n = cfg.network;
  // Delete binds only what finds the network: it undoes whatever create made, whatever the MTU.
  const target = { URI: cfg.libvirt.uri, NET: n.name };
  const values = { ...target, MODE: n.mode, MTU: n.mtu };
  const common = {
    name: "network",
    component: "LabNetwork",
    runsOn: "host",
    dependsOn: [after.hostReadiness],
    parse: parseNetworkOutput,
  } as const;
  if (n.mode === "adopt") {
    return {
      ...common,
      create: hostScript({ step: "network", file: CREATE_ADOPT, libraries: [NETWORK_LIB, START_LIB, ADOPT_LIB], values }),
      delete: hostScript({ step: "network", file: DELETE_ADOPT, libraries: [NETWORK_LIB, ADOPT_LIB], values: target }),
      triggers: [cfg.libvirt.uri, n.mode, n.name, String(n.mtu)],
      effect: {
        changes: `adopts network ${n.name} (bridge ${n.bridge}): sets its MTU to ${n.mtu}, keeping its original definition in its <metadata>, and restarts it, which cuts off every guest running on it until plugged back`,
        undo: `gives network ${n.name} its original definition and active state back, restarting it (its running guests are cut off again)`,
      },
    };
  }
  const documents = [{ file: "network.xml", content: dedicatedNetworkXml(cfg) }];
  return {
    ...common,
    create: hostScript({ step: "network", file: CREATE_DEDICATED, libraries: [NETWORK_LIB, START_LIB], values, documents }),
    delete: hostScript({ step: "network", file: DELETE_DEDICATED, libraries: [NETWORK_LIB], values: target }),
    triggers: [cfg.libvirt.uri, n.mode, documents[0]!.content],
    documents,
    effect: {
      changes: `defines and starts network ${n.name} (bridge ${n.bridge}, MTU ${n.mtu}, isolated)`,
      undo: `stops and undefines network ${n.name}`,
    },
  };
}
