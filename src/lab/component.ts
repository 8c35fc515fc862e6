import * as pulumi from "@pulumi/pulumi";
import type { Component } from "../plan/step";

/** A node in the Pulumi tree named after what a QE engineer sees; its steps are children. */
export class LabComponent extends pulumi.ComponentResource {
  constructor(kind: Component, name: string, opts?: pulumi.ComponentResourceOptions) {
    super(`offload-lab:lab:${kind}`, name, {}, opts);
  }
}
