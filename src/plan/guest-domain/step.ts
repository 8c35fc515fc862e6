import type { LabConfig } from "../../config/model";
import { usoAskedFor } from "../../config/rules";
import { scriptFile } from "../script/files";
import { hostScript } from "../script/hostScript";
import type { Step } from "../step";
import { DEFINITION_NS, NIC_ALIAS, domainXml } from "./domainXml";
import { parseDomainOutput, type DomainOutput } from "./output";

const CREATE = scriptFile(__dirname, "create.sh");
const MACHINE_LIB = scriptFile(__dirname, "machine-lib.sh");
const DELETE = scriptFile(__dirname, "delete.sh");

/** Seconds a defined guest gets to reach `running`. */
const START_TIMEOUT_SECONDS = 60;

/** Each NIC property read back from QEMU and the JSON value (as `jq -c` prints it) it must have. */
function expectedDeviceProperties(cfg: LabConfig): [string, string][] {
  const g = cfg.guest;
  return [
    ["host_mtu", String(cfg.network.mtu)],
    ["mac", JSON.stringify(g.mac)],
    ["mq", String(g.queues > 1)],
    ...Object.entries(g.virtioNetFeatures).map(([name, state]): [string, string] => [name, String(state === "on")]),
  ];
}

/**
 * Defines and starts the guest, then proves the NIC came up as configured: the tap name and
 * MTU on the host, and the virtio-net properties inside QEMU.
 */
export function guestDomainStep(cfg: LabConfig, after: { network: Step; guestDisk: Step }): Step<DomainOutput> {
  const g = cfg.guest;
  const xml = domainXml(cfg);
  const props = expectedDeviceProperties(cfg);
  const target = { URI: cfg.libvirt.uri, DOM: g.name, TAP: g.tapName };
  return {
    name: "guest-domain",
    component: "LabGuest",
    runsOn: "host",
    create: hostScript({
      step: "guest-domain",
      file: CREATE,
      libraries: [MACHINE_LIB],
      values: {
        ...target,
        NET: cfg.network.name,
        MTU: cfg.network.mtu,
        MAC: g.mac,
        ALIAS: NIC_ALIAS,
        DEFINITION_NS,
        DOMAIN_TYPE: cfg.libvirt.domainType,
        // Empty: the step picks the host's newest q35 type that keeps USO.
        MACHINE: g.machineType ?? "",
        // What the machine type can turn off is the device's USO; judged on the device's
        // properties alone, so an offload or matrix change never touches this step (validation
        // judges a named type against the whole stack, src/config/rules.ts).
        USO_ASKED: usoAskedFor({ virtioNetFeatures: g.virtioNetFeatures, uso: {}, senders: [], arms: false }) ? "yes" : "no",
        FIRMWARE: g.firmware,
        TPM: g.tpm ? "yes" : "no",
        GUEST_ADDRESS: cfg.network.guestAddress ?? "",
        START_TIMEOUT: START_TIMEOUT_SECONDS,
        PROPERTIES: props.map(([name]) => name),
        EXPECTED: props.map(([, value]) => value),
        FEATURES: Object.keys(g.virtioNetFeatures),
      },
      documents: [{ file: "guest-domain.xml", content: xml }],
    }),
    delete: hostScript({ step: "guest-domain", file: DELETE, values: target }),
    dependsOn: [after.network, after.guestDisk],
    triggers: [cfg.libvirt.uri, xml],
    documents: [{ file: "guest-domain.xml", content: xml }],
    effect: {
      changes: `defines and starts domain ${g.name} (${g.machineType === undefined ? "the host's newest q35 machine type that keeps USO" : `machine type ${g.machineType}`}, its NIC on tap ${g.tapName} in network ${cfg.network.name}, MTU ${cfg.network.mtu})`,
      undo: `destroys and undefines domain ${g.name} with its UEFI variables (its disk is the guest-disk step's)`,
    },
    parse: parseDomainOutput,
  };
}
