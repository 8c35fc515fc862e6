import { z } from "zod";
import { featureReadBack, type FeatureReadBack } from "../offload/ethtoolFeatures";
import type { HostDeviceRequest } from "../offload/request";
import { parseStepJson } from "../script/stepJson";

const schema = z.object({
  devices: z.array(z.object({
    role: z.enum(["tap", "bridge"]),
    device: z.string(),
    /** The device's whole `ethtool -k` after the lab set it: evidence of every other offload too. */
    ethtoolK: z.string(),
  })),
  /** What `ethtool -K` refused, one "DEV FEATURE STATE: message" line each; "" when nothing. */
  setErrors: z.string(),
});

export interface HostDeviceReadBack {
  readonly role: "tap" | "bridge";
  readonly device: string;
  readonly features: readonly FeatureReadBack[];
  readonly ethtoolK: string;
}

/** What the host-offloads step reports: requested vs actual per feature, per device. */
export interface HostReadBack {
  readonly devices: readonly HostDeviceReadBack[];
  readonly setErrors: string;
}

/**
 * The step's JSON shaped for the stack outputs: each requested device with, per feature it
 * was asked, what `ethtool -k` showed. Whether that is what was asked the script has decided.
 */
export function parseHostReadBack(requests: readonly HostDeviceRequest[], stdout: string): HostReadBack {
  const out = parseStepJson("host-offloads", schema, stdout);
  const devices: HostDeviceReadBack[] = [];
  for (const want of requests) {
    const got = out.devices.find((d) => d.role === want.role && d.device === want.device);
    if (got === undefined) continue;
    devices.push({ role: want.role, device: want.device, features: featureReadBack(want.features, got.ethtoolK), ethtoolK: got.ethtoolK });
  }
  return { devices, setErrors: out.setErrors };
}
