import type { Budget } from "../report/stopping";
import type { SamplingState, SweepRun } from "./state";

/** Lab time a run has spent: its first up and every round since, as measured. */
export function labSeconds(run: SweepRun): number {
  return (run.rounds ?? []).reduce((s, r) => s + (r.seconds ?? 0), 0);
}

const isMeasured = (r: SweepRun): boolean => r.phase === "done" || r.sampled === true;

/**
 * The budget one run's next round is planned with. The sweep's budget is shared among its runs:
 * a run gets an equal share of what the runs that finished sampling left, so a stack whose rows
 * were all known early hands its time to the stacks after it, and no stack can take the time of
 * one not yet started. One more sample of one arm costs a cell's own wall time (`wallSeconds`,
 * the USO switch included) when the cells say it, else the last round's time over its cells;
 * the fixed cost of a round (the engine's update around the benchmark) is counted as spent
 * before the next round's cells, as measured on the last round after the first (round 1's
 * time is mostly the lab's boot).
 */
export function roundBudget(run: SweepRun, runs: readonly SweepRun[], sampling: SamplingState): Budget {
  const finished = runs.filter((r) => r !== run && isMeasured(r));
  const open = runs.length - finished.length;
  const left = sampling.budgetSeconds - finished.reduce((s, r) => s + labSeconds(r), 0);
  const share = Math.max(0, left) / Math.max(1, open);
  const measured = (run.rounds ?? []).filter((r) => r.phase === "measured" && r.seconds !== null && (r.cells ?? 0) > 0);
  const last = measured[measured.length - 1];
  let secondsPerSample = 1;
  if (last !== undefined) {
    secondsPerSample = (last.cellSeconds ?? (last.seconds as number)) / (last.cells as number);
  }
  const later = measured.filter((r) => r.round > 1 && r.cellSeconds !== null);
  const lastLater = later[later.length - 1];
  const overhead = lastLater === undefined ? 0 : Math.max(0, (lastLater.seconds as number) - (lastLater.cellSeconds as number));
  return { usedSeconds: labSeconds(run) + overhead, budgetSeconds: share, secondsPerSample: Math.max(secondsPerSample, 0.001) };
}
