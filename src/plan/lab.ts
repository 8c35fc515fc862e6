import { createHash } from "node:crypto";
import type { LabConfig } from "../config/model";
import { benchmarkStep, iperf3ServerStep } from "./benchmark";
import { guestNetworkStep } from "./guestNetwork";
import { hostReadinessStep } from "./hostReadiness";
import { libvirtSteps } from "./libvirt";
import { offloadSteps } from "./offload/steps";
import type { Step } from "./step";
import type { Transport } from "./transport/transport";

/**
 * The whole lab of one stack as an ordered list of steps: what `pulumi up` runs and
 * `render` writes. Order is a valid execution order; `dependsOn` says what really waits.
 */
export function planLab(cfg: LabConfig, transport: Transport): Step[] {
  const steps: Step[] = [
    hostReadinessStep(cfg),
    ...libvirtSteps(cfg),
    ...offloadSteps(cfg, transport),
    guestNetworkStep(cfg, transport),
    iperf3ServerStep(cfg),
    benchmarkStep(cfg, transport),
  ];
  checkPlan(steps);
  return steps;
}

/** A broken plan is a bug in plan/, caught before anything reaches a host. */
export function checkPlan(steps: readonly Step[]): void {
  const seen = new Set<string>();
  for (const s of steps) {
    if (seen.has(s.name)) throw new Error(`plan has two steps named ${s.name}`);
    for (const d of s.dependsOn) {
      if (!seen.has(d)) throw new Error(`step ${s.name} depends on ${d}, which is not planned before it`);
    }
    seen.add(s.name);
  }
}

/**
 * The triggers a step's resource carries: its own values plus a digest of everything it
 * depends on, so a change re-runs the step and the steps after it, and nothing before it.
 */
export function effectiveTriggers(steps: readonly Step[]): Map<string, string[]> {
  const byName = new Map<string, string[]>();
  for (const s of steps) {
    const fromDeps = s.dependsOn.map((d) => `${d}@${digest(byName.get(d) ?? [])}`);
    byName.set(s.name, [...s.triggers, ...fromDeps]);
  }
  return byName;
}

function digest(values: readonly string[]): string {
  return createHash("sha256").update(JSON.stringify(values)).digest("hex").slice(0, 16);
}
