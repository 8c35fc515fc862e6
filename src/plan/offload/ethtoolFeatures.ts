import type { EthtoolFeature } from "../../config/features";
import { printedFeatureName, type OnOff } from "./request";

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

/** A requested feature beside what `ethtool -k` read back: a stack output, not a verdict. */
export interface FeatureReadBack {
  readonly feature: EthtoolFeature;
  readonly requested: OnOff;
  /** As `ethtool -k` printed it, or `absent`. */
  readonly actual: string;
}

export function featureReadBack(requested: readonly (readonly [EthtoolFeature, OnOff])[], ethtoolK: string): FeatureReadBack[] {
  const states = parseEthtoolFeatures(ethtoolK);
  return requested.map(([feature, want]) => ({
    feature,
    requested: want,
    actual: describeFeatureState(states.get(printedFeatureName(feature))),
  }));
}
