import { z } from "zod";
import type { EthtoolFeature } from "../../config/features";
import { featureReadBack, type FeatureReadBack } from "../offload/ethtoolFeatures";
import type { OnOff } from "../offload/request";
import { parseStepJson } from "../script/stepJson";

// What the guest-offloads scripts print: linux.sh one document, windows.ps1 another. The
// scripts have already failed the step for any setting that did not take; these only shape
// what they read back into the stack's outputs.

const linuxSchema = z.object({
  interface: z.string(),
  /** The whole `ethtool -k` text: evidence of every other offload as it stood. */
  ethtoolK: z.string(),
  ipLink: z.array(z.object({ mtu: z.number().optional() }).loose()),
  setErrors: z.string(),
});

const wmiValues = z.record(z.string(), z.unknown()).nullable();

const propertySchema = z.object({
  keyword: z.string(),
  requested: z.string(),
  registryValue: z.string().nullable(),
  displayValue: z.string().nullable(),
});

/** The driver's own USO flag (NetKvm_Config.UsoEnabledv4/v6); `unverified` before tag mm320. */
const usoDriverState = z.enum(["on", "off", "unverified"]);

/** One offload as the driver reports it (windows.ps1 $driverFields): which field, wanted, actual. */
const driverStateSchema = z.object({
  keyword: z.string(),
  /** e.g. `NetKvm_Config.RscEnabledv4`, `LargeSendOffloadV2HardwareCapabilities.IPv4MaxOffloadSizeSupported`. */
  field: z.string(),
  requested: z.string(),
  /** on/off, off/tx/rx/rxtx for checksums, or `unverified` where the build or Windows does not say. */
  actual: z.string(),
});

const windowsSchema = z.object({
  adapter: z.string(),
  interfaceDescription: z.string().nullable(),
  driverFileName: z.string().nullable(),
  driverVersion: z.string().nullable(),
  driverDate: z.string().nullable(),
  linkStatus: z.string(),
  /** `ready`, or what the matrix still lacked when the wait ended. */
  readiness: z.string(),
  restarted: z.boolean(),
  mtuSize: z.number().nullable(),
  ipMtu: z.number().nullable(),
  /** Each NetKVM keyword, requested beside what the registry holds afterwards. */
  properties: z.array(propertySchema),
  setErrors: z.array(z.string()),
  usoDriver: z.object({ ipv4: usoDriverState, ipv6: usoDriverState }),
  /** Every offload the stack set, read back from the driver; absent in outputs of older scripts. */
  driver: z.array(driverStateSchema).optional(),
  netkvmBuild: z.enum(["mm320+", "mm268-mm319", "before-mm268"]).optional(),
  netkvmConfig: wmiValues,
  netkvmDiag: wmiValues,
});

export interface LinuxGuestReadBack {
  readonly os: "linux";
  readonly interface: string;
  readonly mtu: { readonly requested: number; readonly actual: number | null };
  /** Each requested feature beside its state as `ethtool -k` printed it. */
  readonly features: readonly FeatureReadBack[];
  readonly setErrors: string;
  readonly ethtoolK: string;
}

export type NetkvmPropertyReadBack = z.output<typeof propertySchema>;

/** What the Windows script read back from NetKVM, the driver's own USO flags included. */
export interface NetkvmReadBack extends z.output<typeof windowsSchema> {
  readonly os: "windows";
}

export type GuestOffloadsReadBack = LinuxGuestReadBack | NetkvmReadBack;

/** What the Linux script asked for, to set beside what it read back. */
export interface LinuxOffloadRequest {
  readonly features: readonly (readonly [EthtoolFeature, OnOff])[];
  readonly mtu: number;
}

export function parseLinuxGuestOffloads(stdout: string, request: LinuxOffloadRequest): LinuxGuestReadBack {
  const out = parseStepJson("guest-offloads", linuxSchema, stdout);
  return {
    os: "linux",
    interface: out.interface,
    mtu: { requested: request.mtu, actual: out.ipLink[0]?.mtu ?? null },
    features: featureReadBack(request.features, out.ethtoolK),
    setErrors: out.setErrors,
    ethtoolK: out.ethtoolK,
  };
}

export function parseWindowsGuestOffloads(stdout: string): NetkvmReadBack {
  return { os: "windows", ...parseStepJson("guest-offloads", windowsSchema, stdout) };
}
