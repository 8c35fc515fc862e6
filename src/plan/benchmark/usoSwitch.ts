import * as path from "node:path";
import type { LabConfig } from "../../config/model";
import type { Arm } from "../../results/cell";
import { LINUX_INTERFACE, linuxInterfaceValues, NETKVM_WMI, WINDOWS_ADAPTER, windowsAdapterParameters } from "../guest/libraries";
import { LINK_WAIT_SECONDS } from "../guest-offloads/step";
import { scriptFile } from "../script/files";
import { guestShScript } from "../script/guestShScript";
import { powershellScript } from "../script/powershellScript";

const LINUX = scriptFile(__dirname, "uso-switch.sh");
const WINDOWS = scriptFile(__dirname, "uso-switch.ps1");
const ETHTOOL_LIB = scriptFile(path.join(__dirname, "..", "offload"), "ethtool-lib.sh");

/**
 * Seconds the host gives one switch: a Linux switch is one ethtool call; a Windows one restarts
 * the adapter and waits up to LINK_WAIT_SECONDS for it, plus the transport's own round trip.
 */
export function switchLimitSeconds(cfg: LabConfig): number {
  return (cfg.guest.os === "windows" ? LINK_WAIT_SECONDS : 0) + 60;
}

/**
 * In-lab arms: the guest script that switches the guest's USO to `arm` and reads it back
 * (uso-switch.sh: tx-udp-segmentation with ethtool; uso-switch.ps1: NetKVM *UsoIPv4/6 with one
 * adapter restart and the driver's own flags). It fails, with the read-back message, when the
 * switch did not take.
 */
export function usoSwitchScript(cfg: LabConfig, arm: Arm): string {
  if (cfg.guest.os === "windows") {
    return powershellScript({
      step: "benchmark",
      file: WINDOWS,
      libraries: [WINDOWS_ADAPTER, NETKVM_WMI],
      parameters: { ...windowsAdapterParameters(cfg), HostAddress: cfg.network.hostAddress, Arm: arm, LinkWaitSeconds: LINK_WAIT_SECONDS },
    });
  }
  return guestShScript({ step: "benchmark", file: LINUX, libraries: [LINUX_INTERFACE, ETHTOOL_LIB], values: { ...linuxInterfaceValues(cfg), ARM: arm } });
}
