import type { OutputMap } from "@pulumi/pulumi/automation";
import { labStackOf } from "../engine/stack";
import type { SweepStack, SweepWorkspace } from "./workspace";

const BENCHMARK_KEY = "offload-lab:benchmark";
const RUN_ID_PATH = "offload-lab:benchmark.runId";

/** What `pulumi stack output --json` prints: values only, secrets as "[secret]". */
export function plainOutputs(outputs: OutputMap): Record<string, unknown> {
  return Object.fromEntries(Object.entries(outputs).map(([k, o]) => [k, o.secret ? "[secret]" : o.value]));
}

/**
 * The project's stacks through the Pulumi CLI on PATH, the lab as an inline program
 * (src/engine/stack.ts). `signal` aborts a running up or destroy: the CLI gets SIGINT and
 * cancels as on Ctrl-C (in-flight steps are cancelled, the state is written).
 */
export function automationWorkspace(projectDir: string, signal?: AbortSignal): SweepWorkspace {
  return {
    async selectStack(name: string): Promise<SweepStack> {
      const stack = await labStackOf(projectDir, name);
      return {
        name,
        async getRunId() {
          // getConfig throws alike for "unset" and real failures; the whole map tells them apart.
          const all = await stack.getAllConfig();
          const raw = all[BENCHMARK_KEY]?.value;
          if (raw === undefined) return undefined;
          const parsed: unknown = JSON.parse(raw);
          const runId = typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>).runId : undefined;
          return typeof runId === "string" ? runId : undefined;
        },
        async setRunId(runId) {
          if (runId === undefined) await stack.removeConfig(RUN_ID_PATH, true);
          else await stack.setConfig(RUN_ID_PATH, { value: runId }, true);
        },
        async up(onOutput) {
          // An abort that came between two operations stops the next one before it starts.
          signal?.throwIfAborted();
          await stack.up({ onOutput, signal });
        },
        async outputs() {
          return plainOutputs(await stack.outputs());
        },
        async destroy(onOutput) {
          signal?.throwIfAborted();
          await stack.destroy({ onOutput, signal });
        },
      };
    },
  };
}
