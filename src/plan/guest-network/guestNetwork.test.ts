import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { listStacks, loadStack } from "../../src/config/stackFile";
import { GUEST_NETWORK_STEP, guestNetworkStep } from "../../src/plan/guestNetwork";
import { planLab } from "../../src/plan/lab";
import { guestStepCommand, transportFor } from "../../src/plan/transport";
import { parseGuestNetwork } from "../../src/results/guestNetwork";
import { stepOutput } from "../../src/results/labOutputs";
import { expectGolden } from "../support/golden";

const PROJECT = path.join(__dirname, "..", "..");

describe("guest-network step", () => {
  for (const stack of listStacks(PROJECT)) {
    it(`${stack}: golden script, run through the guest transport`, () => {
      const cfg = loadStack(PROJECT, stack);
      const step = guestNetworkStep(cfg, transportFor(cfg));
      expectGolden(`guest-network/${stack}.${step.language}`, step.create);
      const host = guestStepCommand(transportFor(cfg), step.create);
      expectGolden(`guest-network/${stack}.host.sh`, host);
      expect(spawnSync("bash", ["-n", "-c", host]).status).toBe(0);
      if (step.language === "sh") expect(spawnSync("sh", ["-n", "-c", step.create]).status).toBe(0);
    });

    it(`${stack}: the matrix waits for it, and it waits for the guest's offloads`, () => {
      const cfg = loadStack(PROJECT, stack);
      const plan = planLab(cfg, transportFor(cfg));
      const names = plan.map((s) => s.name);
      const step = plan.find((s) => s.name === GUEST_NETWORK_STEP)!;
      expect(step.runsOn).toBe("guest");
      expect(step.dependsOn).toContain("guest-offloads");
      expect(plan.find((s) => s.name === "benchmark")!.dependsOn).toContain(GUEST_NETWORK_STEP);
      expect(names.indexOf(GUEST_NETWORK_STEP)).toBeLessThan(names.indexOf("benchmark"));
    });
  }

  it("becomes a stack output, and rejects output without an address", () => {
    const cfg = loadStack(PROJECT, "linux-uso-on");
    const stdout = '{"interface":"eth0","operstate":"up","addresses":["10.77.0.10/24"],"route":"10.77.0.1 dev eth0 src 10.77.0.10 uid 0","waitedSeconds":21}\n';
    expect(stepOutput(cfg, GUEST_NETWORK_STEP, stdout)).toEqual(parseGuestNetwork(stdout));
    expect(() => parseGuestNetwork('{"interface":"eth0","operstate":"up","addresses":[],"route":"","waitedSeconds":0}')).toThrow(/addresses/);
  });
});
