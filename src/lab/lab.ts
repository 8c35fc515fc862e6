import * as pulumi from "@pulumi/pulumi";
import type { LabConfig } from "../config/model";
import { planLab } from "../plan/lab";
import { guestStepCommand, transportFor } from "../plan/transport";
import { guestIperf3Version } from "../results/benchmark";
import type { CellResult } from "../results/cell";
import { labFingerprint, type LabEvidence } from "../results/labFingerprint";
import { stepOutput } from "../results/labOutputs";
import { summarize } from "../results/summary";
import { registerSteps } from "./program";

/** The lab of one stack registered with Pulumi, and its outputs as QE reads them. */
export function buildLab(cfg: LabConfig) {
  const transport = transportFor(cfg);
  const steps = planLab(cfg, transport);
  const config = new pulumi.Config();
  const stdout = registerSteps(cfg, steps, {
    target: {
      host: cfg.host,
      privateKey: cfg.secrets.hostSshPrivateKey && config.requireSecret(bareKey(cfg.secrets.hostSshPrivateKey.key)),
    },
    wrapGuest: (script) => guestStepCommand(transport, script),
    secret: (key) => config.requireSecret(bareKey(key)),
  });
  // Each step's output is parsed once: a read-back that failed fails once, with its message.
  const parsed = new Map<string, pulumi.Output<unknown>>();
  for (const [step, text] of stdout) parsed.set(step, text.apply((t) => stepOutput(cfg, step, t)));
  const out = (step: string): pulumi.Output<unknown> | undefined => parsed.get(step);
  const cells = out("benchmark") as pulumi.Output<CellResult[]>;
  const evidence = pulumi.all({
    host: out("host-readiness"),
    guestOffloads: out("guest-offloads"),
    hostOffloads: out("host-offloads"),
    server: out("iperf3-server"),
    netkvmInstall: out("netkvm-install"),
    guestIperf3: stdout.get("benchmark")!.apply(guestIperf3Version),
    // stepOutput dispatches on the step name; these are the parsers LabEvidence names.
  }) as unknown as pulumi.Output<LabEvidence>;
  return {
    host: out("host-readiness"),
    network: out("network"),
    guest: pulumi.all({ disk: out("guest-disk"), domain: out("guest-domain"), check: out("guest-check"), network: out("guest-network") }),
    offloadReadback: pulumi.all({ guest: out("guest-offloads"), host: out("host-offloads"), netkvmInstall: out("netkvm-install") }),
    iperf3Server: out("iperf3-server"),
    cells,
    summary: cells.apply(summarize),
    fingerprint: evidence.apply((e) => labFingerprint(cfg, e)),
  };
}

/** Secret refs carry the namespaced key; pulumi.Config("offload-lab") wants it bare. */
function bareKey(key: string): string {
  return key.replace(/^offload-lab:/, "");
}
