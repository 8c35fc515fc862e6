import * as pulumi from "@pulumi/pulumi";
import type { LabConfig } from "../config/model";
import type { Component, Step } from "../plan/step";
import { effectiveTriggers } from "../plan/lab";
import { LabComponent } from "./component";
import { hostCommand, type HostTarget } from "./stepCommand";

export interface LabWiring {
  readonly target: HostTarget;
  /** Turns a guest script into the host bash that runs it in the guest (the transport). */
  readonly wrapGuest: (guestScript: string) => string;
  /** Secret config values by key, for steps' secretEnv. */
  readonly secret: (key: string) => pulumi.Output<string>;
}

/** Registers one Command per step under its component; returns each step's stdout. */
export function registerSteps(
  cfg: LabConfig,
  steps: readonly Step[],
  wiring: LabWiring,
): Map<string, pulumi.Output<string>> {
  const components = new Map<Component, LabComponent>();
  const componentFor = (kind: Component) => {
    let c = components.get(kind);
    if (c === undefined) {
      c = new LabComponent(kind, `${cfg.stack}-${kind}`);
      components.set(kind, c);
    }
    return c;
  };
  const triggers = effectiveTriggers(steps);
  const resources = new Map<string, pulumi.Resource>();
  const stdout = new Map<string, pulumi.Output<string>>();
  for (const step of steps) {
    const environment: Record<string, pulumi.Input<string>> = {};
    for (const [variable, key] of Object.entries(step.secretEnv ?? {})) environment[variable] = wiring.secret(key);
    const guest = step.runsOn === "guest";
    const cmd = hostCommand(
      wiring.target,
      {
        name: step.name,
        create: guest ? wiring.wrapGuest(step.create) : step.create,
        delete: step.delete === undefined ? undefined : guest ? wiring.wrapGuest(step.delete) : step.delete,
        triggers: triggers.get(step.name) ?? [],
        environment,
      },
      {
        parent: componentFor(step.component),
        dependsOn: step.dependsOn.map((d) => resources.get(d)!),
        // Names (network, domain, tap, server port) are fixed per stack: the old one must go
        // before its replacement is created, or the new one's create would meet the old.
        deleteBeforeReplace: true,
      },
    );
    resources.set(step.name, cmd);
    // @pulumi/command makes stdout secret when any input is: over SSH the connection (its
    // private key) always is. What a step prints is secret only if the step was given a secret.
    const printsSecret = Object.keys(step.secretEnv ?? {}).length > 0 || wiring.target.host.connection === "local";
    stdout.set(step.name, printsSecret ? cmd.stdout : pulumi.unsecret(cmd.stdout));
  }
  return stdout;
}
