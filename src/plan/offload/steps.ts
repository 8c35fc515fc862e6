import type { LabConfig } from "../../config/model";
import { guestCheckScript } from "../guestCheck";
import type { Step } from "../step";
import { GUEST_SSH_KEY_ENV } from "../transport/ssh";
import type { Transport } from "../transport/transport";
import { hostOffloadsCreate, hostOffloadsDelete } from "./hostOffloads";
import { linuxOffloadScript } from "./linuxGuest";
import { netkvmInstallScript } from "./netkvmInstall";
import { windowsOffloadScript } from "./windowsGuest";

/** The step of the libvirt helper after which the guest runs and its tap exists. */
export const GUEST_DOMAIN_STEP = "guest-domain";

export interface OffloadStepOptions {
  /** Windows only: install NetKVM from the attached virtio-win ISO before anything else. */
  readonly netkvmInstall?: boolean;
}

/** Sorted-key JSON, so a trigger changes only when a value does, not when key order does. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

/**
 * The guest check, the guest's offload profile and the host's tap/bridge offloads. Guest
 * steps carry the guest script itself (`sh` or `ps1`); the Pulumi shell wraps them with
 * `guestStepCommand(transport, step.create)`. Only the offload values are triggers, so
 * changing an offload or the MTU re-runs these steps and what depends on them, nothing else.
 */
export function offloadSteps(cfg: LabConfig, transport: Transport, options: OffloadStepOptions = {}): Step[] {
  const windows = cfg.guest.os === "windows";
  const language = windows ? "ps1" : "sh";
  // The transport decides how guest scripts travel; only SSH needs a secret on the host.
  const secretEnv = transport.functionDefinition.includes(GUEST_SSH_KEY_ENV)
    ? { secretEnv: { [GUEST_SSH_KEY_ENV]: "guestSshPrivateKey" } }
    : {};
  const steps: Step[] = [
    {
      name: "guest-check",
      component: "LabGuest",
      runsOn: "guest",
      language,
      create: guestCheckScript(cfg),
      dependsOn: [GUEST_DOMAIN_STEP],
      triggers: [canonical({ iperf3Path: cfg.guest.iperf3Path, adapterName: cfg.guest.adapterName ?? null, linuxInterface: cfg.guest.linuxInterface ?? null })],
      ...secretEnv,
    },
  ];
  const install = windows && options.netkvmInstall === true;
  if (install) {
    steps.push({
      name: "netkvm-install",
      component: "LabGuest",
      runsOn: "guest",
      language,
      create: netkvmInstallScript(cfg),
      dependsOn: [GUEST_DOMAIN_STEP],
      triggers: [canonical({ virtioWinIso: cfg.guest.virtioWinIso ?? null })],
      ...secretEnv,
    });
  }
  steps.push(
    {
      name: "guest-offloads",
      component: "OffloadProfile",
      runsOn: "guest",
      language,
      create: windows ? windowsOffloadScript(cfg) : linuxOffloadScript(cfg),
      dependsOn: [GUEST_DOMAIN_STEP, "guest-check", ...(install ? ["netkvm-install"] : [])],
      triggers: [canonical(cfg.offloads)],
      ...secretEnv,
    },
    {
      name: "host-offloads",
      component: "OffloadProfile",
      runsOn: "host",
      language: "sh",
      create: hostOffloadsCreate(cfg),
      delete: hostOffloadsDelete(cfg),
      dependsOn: [GUEST_DOMAIN_STEP],
      triggers: [canonical(cfg.hostOffloads)],
    },
  );
  return steps;
}
