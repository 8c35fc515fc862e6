import { describe, expect, it } from "vitest";
import { stackFactors } from "../../src/results/factors";

describe("stackFactors", () => {
  it("gives a per-variant stack its own USO", () => {
    expect(stackFactors({ os: "linux", mtu: 1500, uso: true, usoArms: false }, "kvm-1")).toEqual({ os: "linux", mtu: 1500, uso: true, arms: false, host: "kvm-1" });
    expect(stackFactors({ os: "windows", mtu: 9000, uso: undefined, usoArms: false }, null)).toEqual({ os: "windows", mtu: 9000, uso: null, arms: false, host: null });
  });
  it("gives an in-lab arms stack no USO of its own: its cells carry their arm", () => {
    expect(stackFactors({ os: "linux", mtu: 9000, uso: undefined, usoArms: true }, "h")).toEqual({ os: "linux", mtu: 9000, uso: null, arms: true, host: "h" });
    // Even a uso the schema would refuse beside usoArms never becomes the stack's factor.
    expect(stackFactors({ os: "linux", mtu: 9000, uso: true, usoArms: true }, "h").uso).toBeNull();
  });
});
