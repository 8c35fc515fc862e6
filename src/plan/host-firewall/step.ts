import type { LabConfig } from "../../config/model";
import { scriptFile } from "../script/files";
import { hostScript } from "../script/hostScript";
import type { Step } from "../step";
import { parseHostFirewall, type HostFirewall } from "./output";

const LIB = scriptFile(__dirname, "firewall-lib.sh");
const CREATE = scriptFile(__dirname, "create.sh");
const DELETE = scriptFile(__dirname, "delete.sh");

/** Shared by host-readiness, host-firewall and the benchmark, which all read the bridge's zone. */
export const FIREWALL_LIB = LIB;

/**
 * The ports the guest must reach on the host, as firewalld names them: the iperf3 server's,
 * TCP for its control connection and data, UDP for its UDP tests; the `uso` sender's host
 * receiver (src/plan/benchmark/uso-receiver-lib.sh) listens on the same port over UDP.
 */
export function labPorts(cfg: LabConfig): string[] {
  return [`${cfg.iperf3.port}/tcp`, `${cfg.iperf3.port}/udp`];
}

/** Where create records the runtime rules it added, for its delete: /run, which a reboot empties as firewalld forgets them. */
export function firewallStateFile(cfg: LabConfig): string {
  return `/run/offload-lab/firewall-${cfg.iperf3.port}.added`;
}

/**
 * Lets the guest reach the lab's ports on the KVM host through firewalld (RHEL's default; its
 * `libvirt` zone, which libvirt puts its bridges in, rejects everything to the host but dhcp,
 * dns, ssh and tftp): with `host.firewall: open` it adds them to the bridge's zone at runtime
 * and its delete removes exactly what it added; with `leave` it only says what will block.
 * Without firewalld it does nothing.
 */
export function hostFirewallStep(cfg: LabConfig, after: { network: Step }): Step<HostFirewall> {
  const values = { BRIDGE: cfg.network.bridge, PORTS: labPorts(cfg), STATE: firewallStateFile(cfg) };
  const ports = labPorts(cfg).join(", ");
  return {
    name: "host-firewall",
    component: "LabHost",
    runsOn: "host",
    create: hostScript({ step: "host-firewall", file: CREATE, libraries: [LIB], values: { ...values, SETTING: cfg.host.firewall } }),
    delete: hostScript({ step: "host-firewall", file: DELETE, libraries: [LIB], values }),
    // After the network: the bridge exists and libvirt has put it in its zone.
    dependsOn: [after.network],
    triggers: [cfg.host.firewall, cfg.network.bridge, ...labPorts(cfg)],
    effect:
      cfg.host.firewall === "open"
        ? {
            changes: `opens ${ports} in the firewalld zone of bridge ${cfg.network.bridge}, at runtime only, where firewalld runs and the zone rejects them`,
            undo: "removes exactly the runtime ports it opened",
          }
        : { changes: `nothing (host.firewall: leave): says whether firewalld's zone of bridge ${cfg.network.bridge} rejects ${ports}` },
    parse: parseHostFirewall,
  };
}
