import type { EngineEvent, OutputMap, Stack } from "@pulumi/pulumi/automation";
import { loadStack } from "../config/stackFile";
import { labStackOf, translatingPassphrase } from "../engine/stack";
import { probeHost } from "../hosts/probe";
import type { EngineListener, SweepStack, SweepWorkspace } from "./workspace";

/** What `pulumi stack output --json` prints: values only, secrets as "[secret]". */
export function plainOutputs(outputs: OutputMap): Record<string, unknown> {
  return Object.fromEntries(Object.entries(outputs).map(([k, o]) => [k, o.secret ? "[secret]" : o.value]));
}

/** The engine's resource steps as the progress line needs them: which step runs, ended, failed. */
export function stepEvents(listener: EngineListener): (e: EngineEvent) => void {
  const name = (urn: string) => urn.split("::").pop()!;
  return (e) => {
    const pre = e.resourcePreEvent?.metadata;
    if (pre !== undefined && pre.op !== "same" && pre.type.startsWith("command:")) listener.step(name(pre.urn), "running");
    const done = e.resOutputsEvent?.metadata;
    if (done !== undefined && done.op !== "same" && done.type.startsWith("command:")) listener.step(name(done.urn), "done");
    const failed = e.resOpFailedEvent?.metadata;
    if (failed !== undefined && failed.type.startsWith("command:")) listener.step(name(failed.urn), "failed");
  };
}

/**
 * The project's stacks through the Pulumi CLI on PATH, the lab as an inline program
 * (src/engine/stack.ts), one workspace (working copy) per stack so hosts run concurrently.
 * `signal` aborts a running up or destroy: the CLI gets SIGINT and cancels as on Ctrl-C
 * (in-flight steps are cancelled, the state is written).
 */
export function automationWorkspace(projectDir: string, signal?: AbortSignal): SweepWorkspace {
  const engine = <T>(stack: Stack, f: () => Promise<T>) => translatingPassphrase(projectDir, stack.name, f);
  return {
    async select(target): Promise<SweepStack> {
      const stack = await labStackOf(projectDir, target);
      return {
        name: stack.name,
        async up(l) {
          // An abort that came between two operations stops the next one before it starts.
          signal?.throwIfAborted();
          await engine(stack, () => stack.up({ onOutput: l.output, onEvent: stepEvents(l), signal }));
        },
        async outputs() {
          return plainOutputs(await engine(stack, () => stack.outputs()));
        },
        async destroy(l) {
          signal?.throwIfAborted();
          await engine(stack, () => stack.destroy({ onOutput: l.output, onEvent: stepEvents(l), signal }));
        },
        async unlock() {
          // Nothing to drop is no failure (a stack made afresh has no lock); a lock that stays
          // fails the next update with Pulumi's own message.
          await stack.cancel().catch(() => undefined);
        },
      };
    },
    async probe(host, stack) {
      let uri = "qemu:///system";
      try {
        uri = loadStack(projectDir, stack).libvirt.uri;
      } catch { /* checked before the sweep began; the default then */ }
      return probeHost(host, uri);
    },
  };
}
