import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import type { HostConfig } from "../config/model";
import { sh } from "../plan/quote";

export interface HostTarget {
  readonly host: HostConfig;
  /** The host's SSH private key, a Pulumi secret; only for `host.connection: ssh`. */
  readonly privateKey?: pulumi.Output<string>;
}

export interface CommandSpec {
  readonly name: string;
  readonly create: string;
  readonly delete?: string;
  readonly triggers: readonly string[];
  readonly environment: Record<string, pulumi.Input<string>>;
}

/**
 * One bash script on the KVM host: a local Command when the host is this machine, a remote
 * one over SSH otherwise. The script is handed to bash explicitly so the remote login shell
 * does not matter.
 */
export function hostCommand(
  target: HostTarget,
  spec: CommandSpec,
  opts: pulumi.CustomResourceOptions,
): command.local.Command | command.remote.Command {
  const common = {
    triggers: [...spec.triggers],
    environment: spec.environment,
    logging: "stdoutAndStderr" as const,
  };
  if (target.host.connection === "local") {
    return new command.local.Command(
      spec.name,
      { ...common, create: spec.create, delete: spec.delete, interpreter: ["/bin/bash", "-c"] },
      opts,
    );
  }
  const h = target.host;
  const connection: command.types.input.remote.ConnectionArgs = {
    host: h.address,
    user: h.user,
    port: h.port,
    privateKey: target.privateKey,
    proxy: h.jump && { host: h.jump.address, user: h.jump.user, port: h.jump.port, privateKey: target.privateKey },
  };
  return new command.remote.Command(
    spec.name,
    {
      triggers: common.triggers,
      logging: common.logging,
      connection: pulumi.secret(connection),
      create: withEnvFromStdin(spec.create),
      delete: spec.delete === undefined ? undefined : withEnvFromStdin(spec.delete),
      stdin: envOnStdin(spec.environment),
    },
    opts,
  );
}

/**
 * sshd drops client environment unless AcceptEnv allows it, so over SSH the variables travel
 * on stdin as NAME=base64 lines ended by an empty line, and never appear in the command text.
 */
function withEnvFromStdin(script: string): string {
  const prelude = 'while IFS== read -r k v && [ -n "$k" ]; do export "$k=$(printf %s "$v" | base64 -d)"; done; exec bash -c "$1"';
  return `bash -c ${sh(prelude)} offload-lab ${sh(script)}`;
}

function envOnStdin(env: Record<string, pulumi.Input<string>>): pulumi.Output<string> {
  return pulumi
    .all(env)
    .apply((e) => Object.entries(e).map(([k, v]) => `${k}=${Buffer.from(v).toString("base64")}\n`).join("") + "\n");
}
