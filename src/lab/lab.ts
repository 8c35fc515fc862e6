import * as pulumi from "@pulumi/pulumi";
import type { LabConfig } from "../config/model";
import { planLab } from "../plan/lab";
import type { BenchmarkOutput } from "../plan/benchmark/step";
import type { GuestCheckReadBack } from "../plan/guest-check/output";
import type { DiskOutput } from "../plan/guest-disk/output";
import type { DomainOutput } from "../plan/guest-domain/output";
import type { GuestNetworkReadBack } from "../plan/guest-network/output";
import type { GuestOffloadsReadBack } from "../plan/guest-offloads/output";
import type { HostFirewall } from "../plan/host-firewall/output";
import type { HostReadBack } from "../plan/host-offloads/output";
import { hostIdentity, type HostReadiness } from "../plan/host-readiness/output";
import type { Iperf3Server } from "../plan/iperf3-server/output";
import type { NetkvmInstallReadBack } from "../plan/netkvm-install/output";
import type { NetworkOutput } from "../plan/network/output";
import type { Component } from "../plan/step";
import { labFingerprint } from "../plan/fingerprint";
import { summarize } from "../results/summary";
import { LabComponent } from "./component";
import { registerSteps } from "./program";

type Out<T> = pulumi.Output<T>;

/** Secret refs carry the namespaced key; pulumi.Config("offload-lab") wants it bare. */
function bareKey(key: string): string {
  return key.replace(/^offload-lab:/, "");
}

/**
 * The lab of one stack registered with Pulumi: one component per thing a QE engineer sees,
 * each step a Command under it, each component publishing its steps' parsed outputs.
 */
export function buildLab(cfg: LabConfig) {
  const plan = planLab(cfg);
  const config = new pulumi.Config();
  const component = <O extends Record<string, pulumi.Output<unknown>>>(kind: Component) =>
    new LabComponent<O>(kind, `${cfg.stack}-${kind}`);
  const host = component<{ readiness: Out<HostReadiness>; firewall: Out<HostFirewall> }>("LabHost");
  const network = component<{ network: Out<NetworkOutput> }>("LabNetwork");
  const guest = component<{
    disk: Out<DiskOutput>;
    domain: Out<DomainOutput>;
    check: Out<GuestCheckReadBack>;
    netkvmInstall: Out<NetkvmInstallReadBack | null>;
    network: Out<GuestNetworkReadBack>;
  }>("LabGuest");
  const offloads = component<{
    guest: Out<GuestOffloadsReadBack>;
    host: Out<HostReadBack>;
  }>("OffloadProfile");
  const server = component<{ server: Out<Iperf3Server> }>("Iperf3Server");
  const benchmark = component<{ run: Out<BenchmarkOutput> }>("Benchmark");
  const parents: Record<Component, pulumi.Resource> = {
    LabHost: host, LabNetwork: network, LabGuest: guest, OffloadProfile: offloads, Iperf3Server: server, Benchmark: benchmark,
  };

  const privateKey = cfg.secrets.hostSshPrivateKey && config.requireSecret(bareKey(cfg.secrets.hostSshPrivateKey.key));
  const registered = registerSteps(plan.steps, {
    target: { host: cfg.host, privateKey },
    secret: (key) => config.requireSecret(bareKey(key)),
    parentOf: (kind) => parents[kind],
  });
  const out = registered.outputOf;

  host.publish({ readiness: out(plan.hostReadiness), firewall: out(plan.hostFirewall) });
  network.publish({ network: out(plan.network) });
  guest.publish({
    disk: out(plan.guestDisk),
    domain: out(plan.guestDomain),
    check: out(plan.guestCheck),
    netkvmInstall: plan.netkvmInstall === null ? pulumi.output(null) : out(plan.netkvmInstall),
    network: out(plan.guestNetwork),
  });
  offloads.publish({ guest: out(plan.guestOffloads), host: out(plan.hostOffloads) });
  server.publish({ server: out(plan.iperf3Server) });
  benchmark.publish({ run: out(plan.benchmark) });

  const cells = benchmark.outputs.run.apply((r) => r.cells);
  const fingerprint = pulumi
    .output({
      host: host.outputs.readiness,
      domain: guest.outputs.domain,
      netkvmInstall: guest.outputs.netkvmInstall,
      guestOffloads: offloads.outputs.guest,
      hostOffloads: offloads.outputs.host,
      server: server.outputs.server,
      guestIperf3: benchmark.outputs.run.apply((r) => r.guestIperf3),
    })
    .apply((e) => labFingerprint(cfg, e));
  return {
    // Every output names its host: the readiness facts with who the host is.
    // `firewall`: what host-readiness found; `hostFirewall`: what the host-firewall step opened.
    host: pulumi.all([host.outputs.readiness, host.outputs.firewall]).apply(([r, hostFirewall]) => ({ ...r, identity: hostIdentity(cfg, r), hostFirewall })),
    network: network.outputs.network,
    guest: pulumi.output(guest.outputs),
    offloadReadback: pulumi.output(offloads.outputs),
    iperf3Server: server.outputs.server,
    cells,
    summary: cells.apply(summarize),
    fingerprint,
  };
}
