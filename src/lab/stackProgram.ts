import * as pulumi from "@pulumi/pulumi";
import { validateLab } from "../config/validate";
import { stackFactors } from "../results/factors";
import { buildLab } from "./lab";
import { settingsFromPulumi } from "./settings";

/**
 * The whole program of one stack, returning its outputs. `src/index.ts` exports them (the
 * engine's Node.js language host loads it); `offload-lab up|preview|destroy|sweep` hands this
 * function to the Automation API as an inline program (the SDK serves it in-process).
 */
export function labStack() {
  // Validation throws before any resource is registered: bad input never reaches a host.
  const cfg = validateLab(pulumi.getStack(), settingsFromPulumi());
  const lab = buildLab(cfg);
  const facts = { os: cfg.guest.os, mtu: cfg.network.mtu, uso: cfg.offloads.uso.ipv4, usoArms: cfg.matrix.usoArms };
  const uso = stackFactors(facts, null).uso;
  return {
    stack: cfg.stack,
    variant: cfg.variant,
    os: cfg.guest.os,
    mtu: cfg.network.mtu,
    uso,
    // The variant's factors as data, so no reader parses a variant's name.
    factors: lab.host.apply((h) => stackFactors(facts, h.identity.name)),
    host: lab.host,
    network: lab.network,
    guest: lab.guest,
    offloadReadback: lab.offloadReadback,
    iperf3Server: lab.iperf3Server,
    cells: lab.cells,
    summary: lab.summary,
    fingerprint: lab.fingerprint,
  };
}
