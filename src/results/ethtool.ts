import type { EthtoolFeature } from "../config/features";
import { printedFeatureName, type OnOff } from "../plan/offload/request";
import type { OffloadMismatch } from "./offloadStep";

/** One line of `ethtool -k`: `tx-udp-segmentation: off [fixed]`. */
export interface EthtoolFeatureState {
  readonly active: boolean;
  /** The annotation after the state, e.g. `[fixed]`, `[requested on]`; "" when none. */
  readonly note: string;
  readonly fixed: boolean;
}

/** `ethtool -k` output → printed feature name → state. The header line is skipped. */
export function parseEthtoolFeatures(text: string): Map<string, EthtoolFeatureState> {
  const features = new Map<string, EthtoolFeatureState>();
  for (const line of text.split("\n")) {
    const m = /^\s*([^\s:]+): (on|off)(?: (.*?))?\s*$/.exec(line);
    if (m === null) continue;
    const note = m[3] ?? "";
    features.set(m[1]!, { active: m[2] === "on", note, fixed: note.includes("[fixed]") });
  }
  return features;
}

/** The state as `ethtool -k` prints it, `absent` when the kernel or driver lacks the feature. */
export function describeFeatureState(state: EthtoolFeatureState | undefined): string {
  if (state === undefined) return "absent";
  return `${state.active ? "on" : "off"}${state.note === "" ? "" : ` ${state.note}`}`;
}

/** Each requested feature whose read-back state differs, in the order requested. */
export function compareEthtool(
  where: string,
  requested: readonly (readonly [EthtoolFeature, OnOff])[],
  readBack: Map<string, EthtoolFeatureState>,
): OffloadMismatch[] {
  const mismatches: OffloadMismatch[] = [];
  for (const [feature, want] of requested) {
    const state = readBack.get(printedFeatureName(feature));
    if (state !== undefined && state.active === (want === "on")) continue;
    mismatches.push({ where, setting: feature, requested: want, actual: describeFeatureState(state) });
  }
  return mismatches;
}
