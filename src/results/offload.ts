import { z } from "zod";
import type { EthtoolFeature } from "../config/features";
import type { LabConfig } from "../config/model";
import { USO_FIXED_OFF, USO_NOT_OFFERED } from "../plan/offload/linuxGuest";
import { hostRequest, linuxRequest, printedFeatureName, type OnOff } from "../plan/offload/request";
import { compareEthtool, describeFeatureState, parseEthtoolFeatures } from "./ethtool";
import { netkvmInstallResult, netkvmResult, type NetkvmReadBack } from "./netkvm";
import { guestCheckResult } from "./offloadGuestCheck";
import { mismatchFailure, stepJson, type OffloadMismatch, type OffloadStepResult } from "./offloadStep";

export { describeMismatch, mismatchFailure, type OffloadMismatch, type OffloadStepResult } from "./offloadStep";

export interface FeatureReadBack {
  readonly feature: EthtoolFeature;
  readonly requested: OnOff;
  /** As `ethtool -k` printed it, or `absent`. */
  readonly actual: string;
}

export interface LinuxGuestReadBack {
  readonly os: "linux";
  readonly interface: string;
  readonly mtu: { readonly requested: number; readonly actual: number | null };
  readonly features: readonly FeatureReadBack[];
  readonly setErrors: string;
  /** The whole `ethtool -k` text: evidence of every other offload as it stood. */
  readonly ethtoolK: string;
}

export interface HostDeviceReadBack {
  readonly role: "tap" | "bridge";
  readonly device: string;
  readonly features: readonly FeatureReadBack[];
  readonly ethtoolK: string;
}

export interface HostReadBack {
  readonly devices: readonly HostDeviceReadBack[];
  readonly setErrors: string;
}

const linuxOutput = z.object({
  interface: z.string(),
  ethtoolK: z.string(),
  ipLink: z.array(z.object({ mtu: z.number().optional() }).loose()),
  setErrors: z.string(),
});

const hostOutput = z.object({
  devices: z.array(z.object({ role: z.enum(["tap", "bridge"]), device: z.string(), ethtoolK: z.string() })),
  setErrors: z.string(),
});

function featureReadBack(
  requested: readonly (readonly [EthtoolFeature, OnOff])[],
  ethtoolK: string,
): FeatureReadBack[] {
  const states = parseEthtoolFeatures(ethtoolK);
  return requested.map(([feature, want]) => ({
    feature,
    requested: want,
    actual: describeFeatureState(states.get(printedFeatureName(feature))),
  }));
}

/** The Linux guest's `guest-offloads` output checked against the profile. */
export function linuxOffloadsResult(cfg: LabConfig, stdout: string): OffloadStepResult<LinuxGuestReadBack> {
  const out = stepJson("guest-offloads", stdout, linuxOutput);
  const req = linuxRequest(cfg);
  const where = `guest ${out.interface}`;
  const mismatches = compareEthtool(where, req.features, parseEthtoolFeatures(out.ethtoolK));
  const actualMtu = out.ipLink[0]?.mtu ?? null;
  if (actualMtu !== req.mtu) {
    mismatches.push({ where, setting: "mtu", requested: String(req.mtu), actual: actualMtu === null ? "absent" : String(actualMtu) });
  }
  return {
    readBack: {
      os: "linux",
      interface: out.interface,
      mtu: { requested: req.mtu, actual: actualMtu },
      features: featureReadBack(req.features, out.ethtoolK),
      setErrors: out.setErrors,
      ethtoolK: out.ethtoolK,
    },
    mismatches,
    error: withUsoHint(mismatchFailure(mismatches)),
  };
}

/** The script's wording: a USO fixed off is the device's doing, and the error says so. */
function withUsoHint(error: string | null): string | null {
  return error !== null && error.includes(USO_FIXED_OFF) ? `${error}; ${USO_NOT_OFFERED}` : error;
}

/** `guest-offloads` output of either guest OS, checked against the profile. */
export function guestOffloadsResult(
  cfg: LabConfig,
  stdout: string,
): OffloadStepResult<LinuxGuestReadBack | NetkvmReadBack> {
  return cfg.guest.os === "windows" ? netkvmResult(cfg, stdout) : linuxOffloadsResult(cfg, stdout);
}

/** `host-offloads` output checked against `hostOffloads`. */
export function hostOffloadsResult(cfg: LabConfig, stdout: string): OffloadStepResult<HostReadBack> {
  const out = stepJson("host-offloads", stdout, hostOutput);
  const mismatches: OffloadMismatch[] = [];
  const devices: HostDeviceReadBack[] = [];
  for (const want of hostRequest(cfg)) {
    const where = `${want.role} ${want.device}`;
    const got = out.devices.find((d) => d.role === want.role && d.device === want.device);
    if (got === undefined) {
      mismatches.push(...want.features.map(([f, v]) => ({ where, setting: f, requested: v, actual: "absent (device not read back)" })));
      continue;
    }
    mismatches.push(...compareEthtool(where, want.features, parseEthtoolFeatures(got.ethtoolK)));
    devices.push({ role: want.role, device: want.device, features: featureReadBack(want.features, got.ethtoolK), ethtoolK: got.ethtoolK });
  }
  return { readBack: { devices, setErrors: out.setErrors }, mismatches, error: mismatchFailure(mismatches) };
}

/**
 * The Pulumi shell's one entry point: the parsed, checked read-back of any step that
 * offloadSteps made, by step name. `error` non-null means the step must fail with it.
 */
export function offloadStepResult(cfg: LabConfig, step: string, stdout: string): OffloadStepResult<unknown> {
  switch (step) {
    case "guest-check": {
      const r = guestCheckResult(stdout);
      return { readBack: r.readBack, mismatches: [], error: r.error };
    }
    case "netkvm-install": {
      const r = netkvmInstallResult(stdout);
      return { readBack: r.readBack, mismatches: [], error: r.error };
    }
    case "guest-offloads":
      return guestOffloadsResult(cfg, stdout);
    case "host-offloads":
      return hostOffloadsResult(cfg, stdout);
    default:
      throw new Error(`offloadStepResult: ${step} is not an offload step`);
  }
}
