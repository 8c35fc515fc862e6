import * as path from "node:path";
import type { LabConfig } from "../../config/model";
import { canonicalJson } from "../canonicalJson";
import { LINUX_INTERFACE, linuxInterfaceValues, NETKVM_WMI, WINDOWS_ADAPTER, windowsAdapterParameters } from "../guest/libraries";
import { guestStep } from "../guestStep";
import { linuxRequest, netkvmRequest, printedFeatureName, type LinuxRequest, type NetkvmRequest } from "../offload/request";
import { scriptFile } from "../script/files";
import { guestShScript } from "../script/guestShScript";
import { powershellScript } from "../script/powershellScript";
import type { Step } from "../step";
import type { Transport } from "../transport/transport";
import { parseLinuxGuestOffloads, parseWindowsGuestOffloads, type GuestOffloadsReadBack } from "./output";

const LINUX = scriptFile(__dirname, "linux.sh");
const WINDOWS = scriptFile(__dirname, "windows.ps1");
const ETHTOOL_LIB = scriptFile(path.join(__dirname, "..", "offload"), "ethtool-lib.sh");

/** Seconds the Windows script waits after the one adapter restart for what the matrix needs. */
export const LINK_WAIT_SECONDS = 120;

/** A word `read` in linux.sh splits off a line whole: an ethtool feature name or on/off. */
function featureWord(word: string): string {
  if (!/^[a-z0-9_-]+$/.test(word)) throw new Error(`not an ethtool feature word: ${JSON.stringify(word)}`);
  return word;
}

/** FEATURES for linux.sh: one "FEATURE WANT PRINTED" line each, in the order they are set. */
function featureLines(req: LinuxRequest): string {
  return req.features.map(([f, want]) => [f, want, printedFeatureName(f)].map(featureWord).join(" ")).join("\n");
}

function linuxStep(cfg: LabConfig, req: LinuxRequest) {
  const settings = [...req.features.map(([f, want]) => `${f} ${want}`), `MTU ${req.mtu}`].join(", ");
  return {
    guest: {
      language: "sh" as const,
      script: guestShScript({
        step: "guest-offloads",
        file: LINUX,
        libraries: [LINUX_INTERFACE, ETHTOOL_LIB],
        values: { ...linuxInterfaceValues(cfg), MTU: req.mtu, FEATURES: featureLines(req) },
      }),
    },
    changes: `sets the lab interface of guest ${cfg.guest.name} with ethtool -K and ip link: ${settings}`,
    parse: (stdout: string) => parseLinuxGuestOffloads(stdout, req),
  };
}

function windowsStep(cfg: LabConfig, req: NetkvmRequest) {
  const settings = [...req.settings.map((s) => `${s.keyword}=${s.value}`), `*JumboPacket=${req.jumboPacket} (MTU=${req.mtu} on drivers before virtio-win 0.1.190)`].join(", ");
  return {
    guest: {
      language: "ps1" as const,
      script: powershellScript({
        step: "guest-offloads",
        file: WINDOWS,
        libraries: [WINDOWS_ADAPTER, NETKVM_WMI],
        parameters: {
          ...windowsAdapterParameters(cfg),
          HostAddress: cfg.network.hostAddress,
          Settings: req.settings.map((s) => ({ Keyword: s.keyword, Value: s.value })),
          Mtu: String(req.mtu),
          JumboPacket: String(req.jumboPacket),
          LinkWaitSeconds: LINK_WAIT_SECONDS,
        },
      }),
    },
    changes: `sets NetKVM advanced properties of the lab adapter in guest ${cfg.guest.name}, restarting it once if one changed: ${settings}`,
    parse: parseWindowsGuestOffloads,
  };
}

/**
 * The guest's offload profile, set and read back in the guest; the script fails the step for
 * a setting that did not take. Only the offload values are triggers, so changing an offload
 * or the MTU re-runs this step and what depends on it, nothing else. Nothing is undone: the
 * guest's overlay goes with the domain.
 */
export function guestOffloadsStep(
  cfg: LabConfig,
  transport: Transport,
  after: { guestDomain: Step; guestCheck: Step; netkvmInstall?: Step },
): Step<GuestOffloadsReadBack> {
  const os = cfg.guest.os === "windows" ? windowsStep(cfg, netkvmRequest(cfg.offloads)) : linuxStep(cfg, linuxRequest(cfg));
  return guestStep<GuestOffloadsReadBack>(transport, {
    name: "guest-offloads",
    component: "OffloadProfile",
    guest: os.guest,
    dependsOn: [after.guestDomain, after.guestCheck, ...(after.netkvmInstall === undefined ? [] : [after.netkvmInstall])],
    triggers: [canonicalJson(cfg.offloads)],
    effect: { changes: os.changes },
    parse: os.parse,
  });
}
