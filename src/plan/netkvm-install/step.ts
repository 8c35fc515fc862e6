import type { LabConfig } from "../../config/model";
import { canonicalJson } from "../canonicalJson";
import { WINDOWS_ADAPTER, windowsAdapterParameters } from "../guest/libraries";
import { guestStep } from "../guestStep";
import { scriptFile } from "../script/files";
import { powershellScript } from "../script/powershellScript";
import type { Step } from "../step";
import type { Transport } from "../transport/transport";
import { parseNetkvmInstall, type NetkvmInstallReadBack } from "./output";

const WINDOWS = scriptFile(__dirname, "windows.ps1");

/** Seconds the script waits for the adapter to reappear with the new driver. */
export const DRIVER_WAIT_SECONDS = 120;

/**
 * Windows only: installs NetKVM from the attached virtio-win ISO with pnputil before the
 * offloads are set. Windows that must restart first fails the step (exit 3) saying so.
 */
export function netkvmInstallStep(cfg: LabConfig, transport: Transport, after: { guestDomain: Step; guestCheck: Step }): Step<NetkvmInstallReadBack> {
  if (cfg.guest.os !== "windows") throw new Error(`netkvm-install is for a Windows guest; stack ${cfg.stack} has a ${cfg.guest.os} guest`);
  return guestStep(transport, {
    name: "netkvm-install",
    component: "LabGuest",
    guest: {
      language: "ps1",
      script: powershellScript({
        step: "netkvm-install",
        file: WINDOWS,
        libraries: [WINDOWS_ADAPTER],
        parameters: { ...windowsAdapterParameters(cfg), DriverWaitSeconds: DRIVER_WAIT_SECONDS },
      }),
    },
    dependsOn: [after.guestDomain, after.guestCheck],
    triggers: [canonicalJson({ virtioWinIso: cfg.guest.virtioWinIso ?? null })],
    effect: {
      changes: `installs NetKVM from the virtio-win ISO in guest ${cfg.guest.name} with pnputil (it stays installed)`,
    },
    parse: parseNetkvmInstall,
  });
}
