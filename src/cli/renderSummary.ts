import type { LabConfig } from "../config/model";
import type { LabPlan } from "../plan/lab";
import type { Step } from "../plan/step";

/**
 * The short plan `render` prints: where each step runs, what `up` changes on the KVM host
 * (and in the guest), and what `destroy` undoes, in its order, each in the step's own words
 * (its `effect`), so it says what these files do.
 */

/** Where host steps run: this machine, or the ssh command that reaches the KVM host. */
export function hostLocation(cfg: LabConfig): string {
  const h = cfg.host;
  if (h.connection === "local") return "this machine";
  const port = h.port === 22 ? "" : ` -p ${h.port}`;
  const jump = h.jump === undefined ? "" : ` -J ${h.jump.user}@${h.jump.address}${h.jump.port === 22 ? "" : `:${h.jump.port}`}`;
  return `ssh${port}${jump} ${h.user}@${h.address}`;
}

export function renderSummary(cfg: LabConfig, plan: LabPlan): string[] {
  const { steps, transport } = plan;
  const on = (machine: Step["runsOn"]) => steps.filter((s) => s.runsOn === machine);
  const lines = ["Where the steps run:", `  on the KVM host, ${hostLocation(cfg)}: ${on("host").map((s) => s.name).join(", ")}`];
  if (on("guest").length > 0) {
    lines.push(`  in guest ${cfg.guest.name}, through ${transport.description} from the host: ${on("guest").map((s) => s.name).join(", ")}`);
  }
  lines.push("What up changes on the KVM host:", ...on("host").map((s) => `  ${s.name}: ${s.effect.changes}`));
  if (on("guest").length > 0) lines.push("What up changes in the guest:", ...on("guest").map((s) => `  ${s.name}: ${s.effect.changes}`));
  const undone = steps.filter((s) => s.effect.undo !== undefined).reverse();
  if (undone.length > 0) {
    lines.push("What destroy undoes (each step before those it depends on):", ...undone.map((s) => `  ${s.name}: ${s.effect.undo}`));
  }
  return lines;
}
