import type { LabConfig } from "../config/model";
import { SECRET_PLACEHOLDER } from "../config/secret";
import { effectiveTriggers, type LabPlan } from "../plan/lab";

export interface ManifestStep {
  readonly order: number;
  readonly name: string;
  readonly component: string;
  readonly runsOn: string;
  readonly language: string;
  readonly create: string;
  readonly delete?: string;
  /** For guest steps: the host bash that carries the guest script through the transport. */
  readonly hostCommand?: string;
  readonly documents: readonly string[];
  readonly dependsOn: readonly string[];
  readonly triggers: readonly string[];
  readonly secretEnv: Readonly<Record<string, string>>;
}

export interface Manifest {
  readonly stack: string;
  readonly variant: string;
  readonly transport: string;
  readonly steps: readonly ManifestStep[];
}

/**
 * Every file `pulumi up` would run for this stack, by file name, plus manifest.json. Pure:
 * the same plan the Pulumi program registers, with secrets as placeholders.
 */
export function renderPlan(cfg: LabConfig, plan: LabPlan): Map<string, string> {
  const files = new Map<string, string>();
  const triggers = effectiveTriggers(plan.steps);
  const manifest: ManifestStep[] = plan.steps.map((step, i) => {
    const stem = `${String(i + 1).padStart(2, "0")}-${step.name}`;
    const language = step.guest?.language ?? "sh";
    // A guest step's own script is the one to read; the host command only carries it.
    const create = `${stem}.${language}`;
    files.set(create, step.guest?.script ?? step.create);
    let del: string | undefined;
    if (step.delete !== undefined) {
      del = `${stem}.delete.sh`;
      files.set(del, step.delete);
    }
    let hostCommand: string | undefined;
    if (step.guest !== undefined) {
      hostCommand = `${stem}.host.sh`;
      files.set(hostCommand, step.create);
    }
    const documents = (step.documents ?? []).map((d) => {
      const file = `${String(i + 1).padStart(2, "0")}-${d.file}`;
      files.set(file, d.content);
      return file;
    });
    const secretEnv: Record<string, string> = {};
    for (const [variable, key] of Object.entries(step.secretEnv ?? {})) secretEnv[variable] = SECRET_PLACEHOLDER(key);
    return {
      order: i + 1,
      name: step.name,
      component: step.component,
      runsOn: step.runsOn,
      language,
      create,
      ...(del === undefined ? {} : { delete: del }),
      ...(hostCommand === undefined ? {} : { hostCommand }),
      documents,
      dependsOn: step.dependsOn.map((d) => d.name),
      triggers: triggers.get(step) ?? [],
      secretEnv,
    };
  });
  const doc: Manifest = { stack: cfg.stack, variant: cfg.variant, transport: plan.transport.description, steps: manifest };
  files.set("manifest.json", JSON.stringify(doc, null, 2) + "\n");
  return files;
}
