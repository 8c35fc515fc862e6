import { describe, expect, it } from "vitest";
import type { LabConfig } from "../../src/config/model";
import { loadStack } from "../../src/config/stackFile";
import { checkPlan, effectiveTriggers, planLab } from "../../src/plan/lab";
import type { Step } from "../../src/plan/step";

const ROOT = `${__dirname}/../..`;
/** Each step's triggers by step name. */
const triggersOf = (cfg: LabConfig) => new Map([...effectiveTriggers(planLab(cfg).steps)].map(([s, t]) => [s.name, t]));

/** The steps whose triggers differ between two configs: what `pulumi up` would re-run. */
function rerun(a: LabConfig, b: LabConfig): string[] {
  const ta = triggersOf(a);
  const tb = triggersOf(b);
  return [...ta.keys()].filter((k) => JSON.stringify(ta.get(k)) !== JSON.stringify(tb.get(k)));
}

describe("what a change re-runs", () => {
  const base = loadStack(ROOT, "mtu9000-uso-on");

  it("an offload change re-runs the offload steps and the benchmark, not the network, disk or domain", () => {
    const off = { ...base, offloads: { ...base.offloads, uso: { ipv4: false, ipv6: false } } };
    expect(rerun(base, off)).toEqual(["guest-offloads", "guest-network", "benchmark"]);
  });

  it("a host offload change re-runs host-offloads and the benchmark", () => {
    const changed = { ...base, hostOffloads: { ...base.hostOffloads, tap: { "tx-udp-segmentation": "off" as const } } };
    expect(rerun(base, changed)).toEqual(["host-offloads", "benchmark"]);
  });

  it("a new runId re-runs only the benchmark", () => {
    expect(rerun(base, { ...base, benchmark: { runId: "2" } })).toEqual(["benchmark"]);
  });

  it("a network MTU change re-runs the network and everything after it", () => {
    // host-firewall too: the network is made again, its delete closes the ports and its create opens them in the new bridge's zone.
    const changed = { ...base, network: { ...base.network, mtu: 1500 } };
    expect(rerun(base, changed)).toEqual(["network", "host-firewall", "guest-domain", "guest-check", "guest-offloads", "host-offloads", "guest-network", "iperf3-server", "benchmark"]);
  });
});

describe("a plan", () => {
  const step = (name: string, dependsOn: Step[] = []): Step => ({
    name, component: "LabHost", runsOn: "host", create: "true", dependsOn, triggers: [], effect: { changes: "nothing" }, parse: () => null,
  });

  it("refuses a step that depends on one planned after it, or a name used twice", () => {
    const a = step("a");
    expect(() => checkPlan([step("b", [a]), a])).toThrow("step b depends on a, which is not planned before it");
    expect(() => checkPlan([a, step("a")])).toThrow("plan has two steps named a");
  });
});

// Issue 18 item 7 of the brief: netkvm-install is reachable from a stack.
describe("netkvm-install in the plan", () => {
  const base = loadStack(ROOT, "mtu9000-uso-on");

  it("is planned only with guest.installNetkvm, after guest-check and before guest-offloads, which waits for it", () => {
    expect(planLab(base).netkvmInstall).toBeNull();
    expect(planLab(base).steps.map((s) => s.name)).not.toContain("netkvm-install");
    const plan = planLab({ ...base, guest: { ...base.guest, installNetkvm: true } });
    const names = plan.steps.map((s) => s.name);
    expect(names.slice(names.indexOf("guest-check"), names.indexOf("guest-offloads") + 1)).toEqual(["guest-check", "netkvm-install", "guest-offloads"]);
    expect(plan.netkvmInstall!.dependsOn).toEqual([plan.guestDomain, plan.guestCheck]);
    expect(plan.guestOffloads.dependsOn).toContain(plan.netkvmInstall);
  });
});
