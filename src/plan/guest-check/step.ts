import type { LabConfig } from "../../config/model";
import { canonicalJson } from "../canonicalJson";
import { LINUX_INTERFACE, linuxInterfaceValues, NETKVM_WMI, WINDOWS_ADAPTER, windowsAdapterParameters } from "../guest/libraries";
import { guestStep } from "../guestStep";
import { scriptFile } from "../script/files";
import { guestShScript } from "../script/guestShScript";
import { powershellScript } from "../script/powershellScript";
import type { GuestScript, Step } from "../step";
import type { Transport } from "../transport/transport";
import { parseGuestCheck, type GuestCheckReadBack } from "./output";

const LINUX = scriptFile(__dirname, "linux.sh");
const WINDOWS = scriptFile(__dirname, "windows.ps1");

/**
 * What guest-check requires of a Windows guest beyond NetKVM and iperf3: the build that has
 * UDP_SEND_MSG_SIZE (19041, Windows 10 2004) when the stack sends with `uso`, sets the
 * guest's USO or switches it between cells (in-lab arms), and whether the lab installs NetKVM
 * itself (then its absence is not a lack).
 */
function windowsRequirements(cfg: LabConfig): { MinimumBuild: number; NetkvmInstalledByLab: boolean } | null {
  if (cfg.guest.os !== "windows") return null;
  const uso = cfg.matrix.senders.includes("uso") || cfg.matrix.usoArms || cfg.offloads.uso.ipv4 === true || cfg.offloads.uso.ipv6 === true;
  return { MinimumBuild: uso ? USO_MINIMUM_BUILD : 0, NetkvmInstalledByLab: cfg.guest.installNetkvm };
}

/** Windows 10 2004 / Server 2022: UDP_SEND_MSG_SIZE (Microsoft, ws2tcpip.h WSASetUdpSendMessageSize). */
export const USO_MINIMUM_BUILD = 19041;

function guestScript(cfg: LabConfig): GuestScript {
  if (cfg.guest.os === "windows") {
    return {
      language: "ps1",
      script: powershellScript({
        step: "guest-check",
        file: WINDOWS,
        libraries: [WINDOWS_ADAPTER, NETKVM_WMI],
        parameters: { ...windowsAdapterParameters(cfg), Iperf3Path: cfg.guest.iperf3Path, Access: cfg.guest.access, ...windowsRequirements(cfg)! },
      }),
    };
  }
  return {
    language: "sh",
    script: guestShScript({
      step: "guest-check",
      file: LINUX,
      libraries: [LINUX_INTERFACE],
      values: {
        ...linuxInterfaceValues(cfg),
        IPERF3: cfg.guest.iperf3Path,
        NEED_GSRO: cfg.matrix.senders.includes("gso") ? "yes" : "no",
      },
    }),
  };
}

/**
 * The first guest step: checks that the base image has what the lab needs and names
 * everything missing at once; the script fails the step when something is.
 */
export function guestCheckStep(cfg: LabConfig, transport: Transport, after: { guestDomain: Step }): Step<GuestCheckReadBack> {
  const needs = cfg.guest.os === "windows"
    ? `NetKVM on the lab adapter and iperf3 at ${cfg.guest.iperf3Path}`
    : `ethtool, ip, iperf3 at ${cfg.guest.iperf3Path} and the lab interface`;
  return guestStep(transport, {
    name: "guest-check",
    component: "LabGuest",
    guest: guestScript(cfg),
    dependsOn: [after.guestDomain],
    // Its very first action: a one-line round trip through the transport (round-trip.sh).
    roundTripFirst: true,
    triggers: [canonicalJson({ iperf3Path: cfg.guest.iperf3Path, adapterName: cfg.guest.adapterName ?? null, linuxInterface: cfg.guest.linuxInterface ?? null, ...(cfg.guest.os === "windows" ? { windows: windowsRequirements(cfg) } : {}) })],
    effect: { changes: `changes nothing: checks that guest ${cfg.guest.name} has ${needs}` },
    parse: parseGuestCheck,
  });
}
