import { randomBytes, randomInt } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { writeReport } from "../report/write";
import { sampleOrders } from "./order";
import { readState, STATE_FILE, writeState, type SweepRun, type SweepState } from "./state";
import type { SweepWorkspace } from "./workspace";

export interface SweepOptions {
  readonly stacks: readonly string[];
  readonly outDir: string;
  /** Runs of each stack; each gets its own benchmark runId. Default 1. */
  readonly samples?: number;
  readonly shuffle?: boolean;
  /** Shuffle seed; default random. Recorded in the state file either way. */
  readonly seed?: number;
  /** Leave each stack up instead of destroying it after its outputs are saved. */
  readonly keep?: boolean;
  readonly failIf?: readonly string[];
  /** Start of every runId this sweep sets; default `sweep-<random hex>`. */
  readonly runIdPrefix?: string;
}

export interface SweepOutcome {
  /** 0/1/2 as `writeReport`; 3 when a stack failed and the sweep stopped (re-run to resume). */
  readonly exitCode: number;
  readonly files: string[];
  readonly messages: string[];
}

const STACK_NAME = /^[A-Za-z0-9_.\/-]{1,200}$/;

function freshState(opts: SweepOptions, samples: number): SweepState {
  const seed = opts.seed ?? randomInt(2 ** 31);
  const runIdPrefix = opts.runIdPrefix ?? `sweep-${randomBytes(4).toString("hex")}`;
  const width = String(samples).length;
  const runs: SweepRun[] = sampleOrders(opts.stacks, samples, opts.shuffle ?? false, seed).flatMap((order, i) =>
    order.map((stack) => ({
      sample: i + 1,
      stack,
      runId: `${runIdPrefix}-s${i + 1}`,
      phase: "pending" as const,
      outputFile: path.join("outputs", `s${String(i + 1).padStart(width, "0")}-${stack.replace(/[^A-Za-z0-9_.-]/g, "_")}.json`),
      attempts: 0,
      error: null,
    })),
  );
  return { version: 1, stacks: [...opts.stacks], samples, shuffle: opts.shuffle ?? false, seed, runIdPrefix, originalRunIds: {}, runs };
}

/** Why an existing state cannot be resumed with these options, or null when it can. */
function mismatch(state: SweepState, opts: SweepOptions, samples: number): string | null {
  if (JSON.stringify(state.stacks) !== JSON.stringify(opts.stacks)) return `stacks ${state.stacks.join(",")}`;
  if (state.samples !== samples) return `--samples ${state.samples}`;
  if (state.shuffle !== (opts.shuffle ?? false)) return state.shuffle ? "--shuffle" : "no --shuffle";
  if (opts.seed !== undefined && state.shuffle && state.seed !== opts.seed) return `seed ${state.seed}`;
  return null;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** What is wrong with a `--stacks` list, checked before anything else (the passphrase, a host). */
export function stackListProblem(stacks: readonly string[]): string | null {
  if (stacks.length === 0) return "--stacks: give at least one stack";
  const bad = stacks.find((s) => !STACK_NAME.test(s));
  return bad === undefined ? null : `--stacks: "${bad}" is not a stack name`;
}

/**
 * Runs the stacks one after another (sample by sample): set the run's benchmark runId, `up`, save
 * the outputs, restore the runId, `destroy` unless kept. Progress is saved after every step in
 * the output folder; running the same command again resumes where it stopped. Ends with the report.
 */
export async function runSweep(opts: SweepOptions, workspace: SweepWorkspace, log: (line: string) => void): Promise<SweepOutcome> {
  const samples = opts.samples ?? 1;
  const problem = stackListProblem(opts.stacks);
  if (problem !== null) return { exitCode: 2, files: [], messages: [problem] };
  if (new Set(opts.stacks).size !== opts.stacks.length) return { exitCode: 2, files: [], messages: ["--stacks: a stack is listed twice"] };
  if (!Number.isInteger(samples) || samples < 1) return { exitCode: 2, files: [], messages: [`--samples must be a positive integer, got ${samples}`] };

  fs.mkdirSync(path.join(opts.outDir, "outputs"), { recursive: true });
  let state = readState(opts.outDir);
  if (state === null) {
    state = freshState(opts, samples);
    writeState(opts.outDir, state);
    log(`sweep: ${state.runs.length} runs (${opts.stacks.length} stacks × ${samples} samples)${state.shuffle ? `, shuffled with seed ${state.seed}` : ""}`);
  } else {
    const why = mismatch(state, opts, samples);
    if (why !== null) {
      return {
        exitCode: 2,
        files: [],
        messages: [`${path.join(opts.outDir, STATE_FILE)} records another sweep (${why}); use a new output folder or the same options`],
      };
    }
    const left = state.runs.filter((r) => r.phase !== "done").length;
    log(`sweep: resuming, ${state.runs.length - left} of ${state.runs.length} runs done${state.shuffle ? `, seed ${state.seed}` : ""}`);
  }
  const st = state;
  const save = (): void => writeState(opts.outDir, st);
  const total = st.runs.length;

  for (const [i, run] of st.runs.entries()) {
    if (run.phase === "done") continue;
    const tag = `[${i + 1}/${total}] sample ${run.sample} ${run.stack}`;
    const forward = (text: string): void => {
      for (const line of text.split("\n")) if (line.trim() !== "") log(`${run.stack} │ ${line}`);
    };
    try {
      const stack = await workspace.selectStack(run.stack);
      if (run.phase === "pending") {
        run.attempts += 1;
        save();
        if (!(run.stack in st.originalRunIds)) {
          st.originalRunIds[run.stack] = (await stack.getRunId()) ?? null;
          save();
        }
        log(`${tag}: up (runId ${run.runId})`);
        await stack.setRunId(run.runId);
        try {
          await stack.up(forward);
          const outputs = await stack.outputs();
          fs.writeFileSync(path.join(opts.outDir, run.outputFile), JSON.stringify(outputs, null, 2) + "\n");
        } finally {
          await stack.setRunId(st.originalRunIds[run.stack] ?? undefined);
        }
        run.phase = "measured";
        run.error = null;
        save();
        log(`${tag}: outputs saved to ${run.outputFile}`);
      }
      if (!opts.keep) {
        log(`${tag}: destroy`);
        await stack.destroy(forward);
      }
      run.phase = "done";
      run.error = null;
      save();
    } catch (e) {
      run.error = errorText(e);
      save();
      const step = run.phase === "pending" ? "up" : "destroy";
      return {
        exitCode: 3,
        files: [path.join(opts.outDir, STATE_FILE)],
        messages: [
          `${tag}: ${step} failed: ${run.error}`,
          `stopped; ${st.runs.filter((r) => r.phase === "done").length} of ${total} runs done. The stack is left as it is; run the same command again to resume.`,
        ],
      };
    }
  }

  const outputFiles = st.runs.map((r) => path.join(opts.outDir, r.outputFile));
  log(`sweep: all ${total} runs done, writing the report`);
  const report = await writeReport(outputFiles, opts.outDir, { failIf: opts.failIf ? [...opts.failIf] : undefined });
  return { exitCode: report.exitCode, files: [...outputFiles, path.join(opts.outDir, STATE_FILE), ...report.files], messages: report.messages };
}
