import type { LabConfig } from "../config/model";
import { parseBenchmarkOutput } from "./benchmark";
import { parseIperf3ServerOutput } from "./benchmarkServer";
import { parseGuestNetwork } from "./guestNetwork";
import { parseHostReadiness } from "./hostReadiness";
import { parseDiskOutput } from "./libvirtDisk";
import { parseDomainOutput } from "./libvirtDomain";
import { parseNetworkOutput } from "./libvirtNetwork";
import { offloadStepResult } from "./offload";

/**
 * A step's stdout as the stack output it becomes. Throws when the output shows the step did
 * not do what was asked (an offload that did not take): the deployment fails with that text.
 */
export function stepOutput(cfg: LabConfig, step: string, stdout: string): unknown {
  switch (step) {
    case "host-readiness":
      return parseHostReadiness(stdout);
    case "network":
      return parseNetworkOutput(stdout);
    case "guest-disk":
      return parseDiskOutput(stdout);
    case "guest-domain":
      return parseDomainOutput(stdout);
    case "guest-check":
    case "netkvm-install":
    case "guest-offloads":
    case "host-offloads": {
      const r = offloadStepResult(cfg, step, stdout);
      if (r.error !== null) throw new Error(`${step}: ${r.error}`);
      return r.readBack;
    }
    case "guest-network":
      return parseGuestNetwork(stdout);
    case "iperf3-server":
      return parseIperf3ServerOutput(stdout);
    case "benchmark":
      return parseBenchmarkOutput(stdout, cfg);
    default:
      throw new Error(`no parser for step ${step}`);
  }
}
