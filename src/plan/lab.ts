import { createHash } from "node:crypto";
import type { LabConfig } from "../config/model";
import { benchmarkStep, type BenchmarkOutput } from "./benchmark/step";
import { guestCheckStep } from "./guest-check/step";
import type { GuestCheckReadBack } from "./guest-check/output";
import { guestDiskStep } from "./guest-disk/step";
import type { DiskOutput } from "./guest-disk/output";
import { guestDomainStep } from "./guest-domain/step";
import type { DomainOutput } from "./guest-domain/output";
import { guestNetworkStep } from "./guest-network/step";
import type { GuestNetworkReadBack } from "./guest-network/output";
import { guestOffloadsStep } from "./guest-offloads/step";
import type { GuestOffloadsReadBack } from "./guest-offloads/output";
import { hostFirewallStep } from "./host-firewall/step";
import type { HostFirewall } from "./host-firewall/output";
import { hostOffloadsStep } from "./host-offloads/step";
import type { HostReadBack } from "./host-offloads/output";
import { hostReadinessStep } from "./host-readiness/step";
import type { HostReadiness } from "./host-readiness/output";
import { iperf3ServerStep } from "./iperf3-server/step";
import type { Iperf3Server } from "./iperf3-server/output";
import { netkvmInstallStep } from "./netkvm-install/step";
import type { NetkvmInstallReadBack } from "./netkvm-install/output";
import { networkStep } from "./network/step";
import type { NetworkOutput } from "./network/output";
import type { Step } from "./step";
import { transportFor } from "./transport";
import type { Transport } from "./transport/transport";

/** The whole lab of one stack: each step by what it is, and all of them in execution order. */
export interface LabPlan {
  readonly transport: Transport;
  readonly hostReadiness: Step<HostReadiness>;
  readonly network: Step<NetworkOutput>;
  /** Opens the lab's ports in firewalld's zone of the bridge (host.firewall), or says what blocks them. */
  readonly hostFirewall: Step<HostFirewall>;
  readonly guestDisk: Step<DiskOutput>;
  readonly guestDomain: Step<DomainOutput>;
  readonly guestCheck: Step<GuestCheckReadBack>;
  /** Installs NetKVM from the ISO (guest.installNetkvm, Windows only); null when not asked. */
  readonly netkvmInstall: Step<NetkvmInstallReadBack> | null;
  readonly guestOffloads: Step<GuestOffloadsReadBack>;
  readonly hostOffloads: Step<HostReadBack>;
  readonly guestNetwork: Step<GuestNetworkReadBack>;
  readonly iperf3Server: Step<Iperf3Server>;
  readonly benchmark: Step<BenchmarkOutput>;
  /** A valid execution order; `dependsOn` says what really waits. */
  readonly steps: readonly Step[];
}

/**
 * The lab of one stack as steps: what `pulumi up` runs and `render` writes. Each step is
 * handed the steps it waits for, so the order below is the only place it is written down.
 */
export function planLab(cfg: LabConfig, transport: Transport = transportFor(cfg)): LabPlan {
  const hostReadiness = hostReadinessStep(cfg, transport);
  const network = networkStep(cfg, { hostReadiness });
  const hostFirewall = hostFirewallStep(cfg, { network });
  const guestDisk = guestDiskStep(cfg, { hostReadiness });
  const guestDomain = guestDomainStep(cfg, { network, guestDisk });
  const guestCheck = guestCheckStep(cfg, transport, { guestDomain });
  // After guest-check: the transport's round trip is proven first, and a missing NetKVM is
  // what this step is for, so guest-check does not fail on it when the lab installs it.
  const netkvmInstall = cfg.guest.installNetkvm ? netkvmInstallStep(cfg, transport, { guestDomain, guestCheck }) : null;
  const guestOffloads = guestOffloadsStep(cfg, transport, { guestDomain, guestCheck, ...(netkvmInstall === null ? {} : { netkvmInstall }) });
  const hostOffloads = hostOffloadsStep(cfg, { guestDomain });
  const guestNetwork = guestNetworkStep(cfg, transport, { guestOffloads });
  const iperf3Server = iperf3ServerStep(cfg, { network, hostFirewall });
  const benchmark = benchmarkStep(cfg, transport, { iperf3Server, guestOffloads, hostOffloads, guestNetwork });
  const steps: Step[] = [
    hostReadiness, network, hostFirewall, guestDisk, guestDomain, guestCheck, ...(netkvmInstall === null ? [] : [netkvmInstall]),
    guestOffloads, hostOffloads, guestNetwork, iperf3Server, benchmark,
  ];
  checkPlan(steps);
  return { transport, hostReadiness, network, hostFirewall, guestDisk, guestDomain, guestCheck, netkvmInstall, guestOffloads, hostOffloads, guestNetwork, iperf3Server, benchmark, steps };
}

/** A broken plan is a bug in plan/, caught before anything reaches a host. */
export function checkPlan(steps: readonly Step[]): void {
  const seen = new Set<Step>();
  const names = new Set<string>();
  for (const s of steps) {
    if (names.has(s.name)) throw new Error(`plan has two steps named ${s.name}`);
    for (const d of s.dependsOn) {
      if (!seen.has(d)) throw new Error(`step ${s.name} depends on ${d.name}, which is not planned before it`);
    }
    seen.add(s);
    names.add(s.name);
  }
}

/**
 * The triggers a step's resource carries: its own values plus a digest of everything it
 * depends on, so a change re-runs the step and the steps after it, and nothing before it.
 */
export function effectiveTriggers(steps: readonly Step[]): Map<Step, string[]> {
  const byStep = new Map<Step, string[]>();
  for (const s of steps) {
    const fromDeps = s.dependsOn.map((d) => `${d.name}@${digest(byStep.get(d) ?? [])}`);
    byStep.set(s, [...s.triggers, ...fromDeps]);
  }
  return byStep;
}

function digest(values: readonly string[]): string {
  return createHash("sha256").update(JSON.stringify(values)).digest("hex").slice(0, 16);
}
