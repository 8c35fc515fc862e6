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

/**
 * How an SSH guest lets the lab in. A committed stack may leave guest.ssh.authorizedKey unset
 * (sandbox-ssh does: a sandbox lends its key pair in the working copy), so render says what the
 * rendered domain then lacks instead of refusing to render.
 */
function guestKeyNote(cfg: LabConfig): string {
  const key = cfg.guest.ssh.authorizedKey;
  if (key !== undefined) {
    const [type, , ...comment] = key.split(" ");
    return `the domain hands the guest ${cfg.guest.ssh.user}'s key at boot (guest.ssh.authorizedKey: ${[type, ...comment].join(" ")}), as a systemd credential`;
  }
  return "guest.ssh.authorizedKey is unset, so the domain hands the guest no key: its image must already let the key of guestSshPrivateKey in " +
    `as ${cfg.guest.ssh.user}; a sandbox lends its own key pair (sweep --sandbox)`;
}

export function renderSummary(cfg: LabConfig, plan: LabPlan): string[] {
  const { steps, transport } = plan;
  const on = (machine: Step["runsOn"]) => steps.filter((s) => s.runsOn === machine);
  const lines = ["Where the steps run:", `  on the KVM host, ${hostLocation(cfg)}: ${on("host").map((s) => s.name).join(", ")}`];
  if (on("guest").length > 0) {
    lines.push(`  in guest ${cfg.guest.name}, through ${transport.description} from the host: ${on("guest").map((s) => s.name).join(", ")}`);
  }
  if (transport.kind === "ssh" && cfg.guest.os === "linux") lines.push(`  ${guestKeyNote(cfg)}`);
  lines.push("What up changes on the KVM host:", ...on("host").map((s) => `  ${s.name}: ${s.effect.changes}`));
  if (on("guest").length > 0) lines.push("What up changes in the guest:", ...on("guest").map((s) => `  ${s.name}: ${s.effect.changes}`));
  const undone = steps.filter((s) => s.effect.undo !== undefined).reverse();
  if (undone.length > 0) {
    lines.push("What destroy undoes (each step before those it depends on):", ...undone.map((s) => `  ${s.name}: ${s.effect.undo}`));
  }
  return lines;
}
