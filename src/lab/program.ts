import * as pulumi from "@pulumi/pulumi";
import { effectiveTriggers } from "../plan/lab";
import type { Component, Step } from "../plan/step";
import { hostCommand, type HostTarget } from "./stepCommand";

export interface LabWiring {
  readonly target: HostTarget;
  /** Secret config values by key, for steps' secretEnv. */
  readonly secret: (key: string) => pulumi.Output<string>;
  /** The component each step is registered under. */
  readonly parentOf: (component: Component) => pulumi.Resource;
}

/** Each step's parsed stdout, by step: `outputOf(plan.network)` is typed as the network's output. */
export interface RegisteredSteps {
  outputOf<T>(step: Step<T>): pulumi.Output<T>;
}

/**
 * Registers one Command per step, in plan order, under its component, and parses each
 * step's stdout once with the step's own parser.
 */
export function registerSteps(steps: readonly Step[], wiring: LabWiring): RegisteredSteps {
  const triggers = effectiveTriggers(steps);
  const resources = new Map<Step, pulumi.Resource>();
  const outputs = new Map<Step, pulumi.Output<unknown>>();
  for (const step of steps) {
    const environment: Record<string, pulumi.Input<string>> = {};
    for (const [variable, key] of Object.entries(step.secretEnv ?? {})) environment[variable] = wiring.secret(key);
    const cmd = hostCommand(
      wiring.target,
      { name: step.name, create: step.create, delete: step.delete, triggers: triggers.get(step) ?? [], environment },
      {
        parent: wiring.parentOf(step.component),
        dependsOn: step.dependsOn.map((d) => {
          const r = resources.get(d);
          if (r === undefined) throw new Error(`step ${step.name} depends on ${d.name}, which is not registered before it`);
          return r;
        }),
        // Names (network, domain, tap, server port) are fixed per stack: the old one must go
        // before its replacement is created, or the new one's create would meet the old.
        deleteBeforeReplace: true,
      },
    );
    resources.set(step, cmd);
    // @pulumi/command makes stdout secret when any input is: over SSH the connection (its
    // private key) always is. What a step prints is secret only if the step was given a secret.
    const printsSecret = Object.keys(step.secretEnv ?? {}).length > 0 || wiring.target.host.connection === "local";
    const stdout = printsSecret ? cmd.stdout : pulumi.unsecret(cmd.stdout);
    outputs.set(step, stdout.apply((text) => step.parse(text)));
  }
  return {
    outputOf<T>(step: Step<T>): pulumi.Output<T> {
      const out = outputs.get(step);
      if (out === undefined) throw new Error(`step ${step.name} is not part of this lab`);
      return out as pulumi.Output<T>;
    },
  };
}
