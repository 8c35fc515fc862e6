import * as pulumi from "@pulumi/pulumi";
import type { Component } from "../plan/step";

/**
 * A node in the Pulumi tree named after what a QE engineer sees; its steps are its children
 * and their parsed outputs its typed outputs. It exists before its steps (Pulumi needs the
 * parent first) and publishes the outputs once they are registered.
 */
export class LabComponent<Outputs extends Record<string, pulumi.Output<unknown>>> extends pulumi.ComponentResource {
  private published: Outputs | undefined;

  constructor(readonly kind: Component, name: string, opts?: pulumi.ComponentResourceOptions) {
    super(`offload-lab:lab:${kind}`, name, {}, opts);
  }

  publish(outputs: Outputs): Outputs {
    this.published = outputs;
    this.registerOutputs(outputs);
    return outputs;
  }

  get outputs(): Outputs {
    if (this.published === undefined) throw new Error(`${this.kind} has not published its outputs yet`);
    return this.published;
  }
}
