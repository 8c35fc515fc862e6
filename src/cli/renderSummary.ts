import type { LabConfig, OffloadProfile } from "../config/model";
import type { Step } from "../plan/step";
import type { Transport } from "../plan/transport/transport";

/**
 * The short plan `render` prints: where each step runs, what `up` changes on the KVM host
 * (and in the guest), and what `destroy` undoes, in its order. Computed from the step list and
 * the config, so it says what these files do. Until each step carries its own description of
 * its effect, `stepEffect` knows the steps by name; a step it does not know is still listed
 * where it runs, and under destroy when it has a delete script.
 */

export interface StepEffect {
  /** What `up` leaves changed on the machine the step runs on. */
  readonly up?: string;
  /** What the step's delete script undoes on `destroy`. */
  readonly destroy?: string;
}

const onOff = (b: boolean | undefined) => (b ? "on" : "off");

/** The guest offloads a stack asks for, by their setting names. */
function guestOffloads(o: OffloadProfile): string {
  const parts: string[] = [];
  for (const name of ["uso", "lso", "rsc"] as const) {
    for (const family of ["ipv4", "ipv6"] as const) {
      if (o[name][family] !== undefined) parts.push(`${name}.${family} ${onOff(o[name][family])}`);
    }
  }
  for (const [k, v] of Object.entries(o.checksum)) parts.push(`checksum.${k} ${v}`);
  for (const [k, v] of Object.entries(o.ethtool)) parts.push(`${k} ${v}`);
  parts.push(`MTU ${o.mtu}`);
  return parts.join(", ");
}

function features(device: string, map: Readonly<Record<string, string | undefined>>): string | undefined {
  const set = Object.entries(map).map(([f, v]) => `${f} ${v}`);
  return set.length === 0 ? undefined : `${device}: ${set.join(", ")}`;
}

export function stepEffect(step: Step, cfg: LabConfig): StepEffect {
  const n = cfg.network;
  const g = cfg.guest;
  switch (step.name) {
    case "network":
      return n.mode === "adopt"
        ? {
          up: `adopts libvirt network ${n.name} (bridge ${n.bridge}): sets its MTU to ${n.mtu}, keeps its original definition inside it, ` +
            `and restarts it, which cuts off every guest running on ${n.name}`,
          destroy: `gives network ${n.name} its original definition back and restarts it, cutting off its running guests again`,
        }
        : {
          up: `defines and starts network ${n.name} (bridge ${n.bridge}, ${n.cidr}, MTU ${n.mtu})`,
          destroy: `stops and removes network ${n.name}`,
        };
    case "guest-disk":
      return { up: `creates the linked clone ${g.overlayPath} over ${g.baseImage} (the base is only read)`, destroy: `deletes ${g.overlayPath}` };
    case "guest-domain":
      return { up: `defines and starts domain ${g.name} (tap ${g.tapName} on ${n.bridge})`, destroy: `stops and undefines domain ${g.name}` };
    case "host-offloads": {
      const changed = [features(g.tapName, cfg.hostOffloads.tap), features(n.bridge, cfg.hostOffloads.bridge)].filter((x) => x !== undefined);
      return changed.length === 0
        ? { up: "reads the offloads of the tap and the bridge, changes none", destroy: "nothing to put back" }
        : {
          up: `sets offloads with ethtool -K, ${changed.join("; ")} (each device's features saved first)`,
          destroy: "puts back the saved offloads of the tap and the bridge",
        };
    }
    case "iperf3-server":
      return { up: `starts an iperf3 server on ${n.hostAddress}:${cfg.iperf3.port}`, destroy: "stops the iperf3 server" };
    case "netkvm-install":
      return { up: "installs the NetKVM driver from the virtio-win ISO" };
    case "guest-offloads":
      return { up: `sets ${guestOffloads(cfg.offloads)} (gone with the guest's disk on destroy)` };
    default:
      return step.delete !== undefined ? { destroy: "runs its delete script" } : {};
  }
}

/** Where host steps run: this machine, or the ssh command that reaches the KVM host. */
export function hostLocation(cfg: LabConfig): string {
  const h = cfg.host;
  if (h.connection === "local") return "this machine";
  const port = h.port === 22 ? "" : ` -p ${h.port}`;
  const jump = h.jump === undefined ? "" : ` -J ${h.jump.user}@${h.jump.address}${h.jump.port === 22 ? "" : `:${h.jump.port}`}`;
  return `ssh${port}${jump} ${h.user}@${h.address}`;
}

export function renderSummary(cfg: LabConfig, steps: readonly Step[], transport: Transport): string[] {
  const on = (machine: Step["runsOn"]) => steps.filter((s) => s.runsOn === machine).map((s) => s.name).join(", ");
  const lines = ["Where the steps run:", `  on the KVM host, ${hostLocation(cfg)}: ${on("host")}`];
  if (steps.some((s) => s.runsOn === "guest")) {
    lines.push(`  in guest ${cfg.guest.name}, through ${transport.description} from the host: ${on("guest")}`);
  }
  const effects = steps.map((s) => ({ step: s, effect: stepEffect(s, cfg) }));
  const upOn = (machine: Step["runsOn"]) => effects.filter((e) => e.step.runsOn === machine && e.effect.up !== undefined);
  if (upOn("host").length > 0) {
    lines.push("What up changes on the KVM host:", ...upOn("host").map((e) => `  ${e.step.name}: ${e.effect.up}`));
  }
  if (upOn("guest").length > 0) {
    lines.push("What up changes in the guest:", ...upOn("guest").map((e) => `  ${e.step.name}: ${e.effect.up}`));
  }
  const undone = effects.filter((e) => e.effect.destroy !== undefined).reverse();
  if (undone.length > 0) {
    lines.push("What destroy undoes (each step before those it depends on):", ...undone.map((e) => `  ${e.step.name}: ${e.effect.destroy}`));
  }
  return lines;
}
