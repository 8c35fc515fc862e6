import * as pulumi from "@pulumi/pulumi";
import type { LabConfig } from "../config/model";
import { planLab } from "../plan/lab";
import { guestStepCommand, transportFor } from "../plan/transport";
import { stepOutput } from "../results/labOutputs";
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
  const out = (step: string) => {
    const s = stdout.get(step);
    return s === undefined ? undefined : s.apply((text) => stepOutput(cfg, step, text));
  };
  return {
    host: out("host-readiness"),
    network: out("network"),
    guest: pulumi.all({ disk: out("guest-disk"), domain: out("guest-domain"), check: out("guest-check") }),
    offloadReadback: pulumi.all({ guest: out("guest-offloads"), host: out("host-offloads"), netkvmInstall: out("netkvm-install") }),
  };
}

/** Secret refs carry the namespaced key; pulumi.Config("offload-lab") wants it bare. */
function bareKey(key: string): string {
  return key.replace(/^offload-lab:/, "");
}
