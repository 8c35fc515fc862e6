import { describe, expect, it } from "vitest";
import { featureReadBack, parseEthtoolFeatures } from "./ethtoolFeatures";

describe("ethtool read-back", () => {
  const TEXT = [
    "Features for eth0:",
    "rx-checksumming: on [fixed]",
    "tx-checksumming: on",
    "\ttx-checksum-ip-generic: on",
    "generic-receive-offload: on",
    "rx-gro-hw: off [fixed]",
    "tx-udp-segmentation: off [requested on]",
    "",
  ].join("\n");

  it("parses states and notes, under the names ethtool prints", () => {
    const f = parseEthtoolFeatures(TEXT);
    expect(f.get("rx-checksumming")).toEqual({ active: true, note: "[fixed]", fixed: true });
    expect(f.get("tx-checksum-ip-generic")).toEqual({ active: true, note: "", fixed: false });
    expect(f.get("tx-udp-segmentation")).toEqual({ active: false, note: "[requested on]", fixed: false });
    expect(f.has("Features for eth0")).toBe(false);
  });

  it("looks each feature up by the name ethtool prints, and sets requested beside actual", () => {
    expect(featureReadBack([
      ["rx-checksum", "on"], ["rx-gro", "on"], ["rx-gro-hw", "on"], ["tx-udp-segmentation", "on"], ["rx-gro-list", "off"],
    ], TEXT)).toEqual([
      { feature: "rx-checksum", requested: "on", actual: "on [fixed]" },
      { feature: "rx-gro", requested: "on", actual: "on" },
      { feature: "rx-gro-hw", requested: "on", actual: "off [fixed]" },
      { feature: "tx-udp-segmentation", requested: "on", actual: "off [requested on]" },
      { feature: "rx-gro-list", requested: "off", actual: "absent" },
    ]);
  });
});
