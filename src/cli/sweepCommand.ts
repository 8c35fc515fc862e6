import * as path from "node:path";
import { quote } from "shell-quote";
import { loadStack } from "../config/stackFile";
import { OwnerLock } from "../engine/ownerLock";
import { isRunning } from "../engine/owner";
import { backendUrl } from "../engine/environment";
import { missingPassphrase, passphraseSource } from "../engine/passphrase";
import { chooseHosts, readPool, type LabHost } from "../hosts/pool";
import { SANDBOX_PORT, sandboxAddresses, sandboxHostName } from "../sandbox/addresses";
import { startSandbox } from "../sandbox/session";
import { runSweep, stackListProblem } from "../sweep/run";
import { samplingOptions } from "../sweep/samplingOptions";
import { parseShard } from "../sweep/shard";
import type { Leftover } from "../sweep/state";
import type { SweepWorkspace } from "../sweep/workspace";
import { describeFailure, UsageError } from "./errors";
import type { CommandIo } from "./io";
import { elapsed } from "./progress";
import { checkStackTarget } from "./stackCheck";
import { SweepProgress } from "./sweepProgress";

export interface SweepArgs {
  readonly stacks: string;
  readonly out: string;
  readonly samples: number;
  readonly shuffle: boolean;
  readonly seed?: number;
  readonly keep: boolean;
  readonly failIf: string[];
  readonly sandbox: boolean;
  readonly hosts?: string;
  readonly host: string[];
  readonly shard?: string;
  readonly log?: string;
  readonly quiet: boolean;
  /** --budget and its two companions, as typed (src/sweep/samplingOptions.ts parses them). */
  readonly precision?: string;
  readonly budget?: string;
  readonly maxSamples?: string;
}

export interface SweepRuntime {
  /** The real Automation API needs the secrets passphrase; a test's fake workspace does not. */
  readonly realEngine: boolean;
  /** stderr is a terminal: show a live progress line. */
  readonly live: boolean;
  readonly now?: () => number;
}

/** How the summary says to remove a stack left up on a host. */
function removeCommand(args: SweepArgs): (l: Leftover) => string {
  return (l) => {
    if (args.sandbox) return "nothing to do: it goes with the sandbox, removed at the end of this run";
    // Quoted: the pool file's path is the user's and may hold anything.
    if (l.host === null) return quote(["offload-lab", "destroy", "--stack", l.stack]);
    return quote(["offload-lab", "destroy", "--stack", l.stack, "--hosts", args.hosts ?? "", "--host", l.host]);
  };
}

/** The sandbox host as its stacks will see it, for checking them before the sandbox exists. */
function sandboxStandIn(): LabHost {
  return {
    name: sandboxHostName(0),
    address: sandboxAddresses(0).sandbox,
    user: "root",
    port: SANDBOX_PORT,
    privateKey: () => "",
    keySource: "the sandbox",
  };
}

/**
 * `sweep`: every check a user's mistake can fail (stacks, their settings on every host, the
 * pool file and its keys, the passphrase, a folder another sweep is writing) before anything
 * runs; then the sandbox (--sandbox) or the pool (--hosts), the runs, the report. Progress:
 * src/cli/sweepProgress.ts; the engine's whole output goes to the log file named at the start
 * and at the end, and when runs failed or the sweep crashed its last 20 lines are printed.
 */
export async function sweepCommand(
  args: SweepArgs,
  projectDir: string,
  workspace: (signal: AbortSignal) => SweepWorkspace,
  io: CommandIo,
  runtime: SweepRuntime,
): Promise<number> {
  const stacks = args.stacks.split(",").map((s) => s.trim()).filter(Boolean);
  const listProblem = stackListProblem(stacks);
  if (listProblem !== null) throw new UsageError(listProblem);
  const shard = args.shard === undefined ? null : parseShard(args.shard);
  if (typeof shard === "string") throw new UsageError(shard);
  if (args.sandbox && args.keep) throw new UsageError("--keep with --sandbox: the sandbox and its stacks are removed at the end, nothing can be kept");
  if (args.sandbox && args.hosts !== undefined) throw new UsageError("--sandbox and --hosts: the sandbox is the host; give one or the other");
  if (args.host.length > 0 && args.hosts === undefined) throw new UsageError("--host names a host of the pool: give --hosts FILE too");
  const sampling = samplingOptions({ precision: args.precision, budget: args.budget, maxSamples: args.maxSamples, samples: args.samples });
  if (typeof sampling === "string") throw new UsageError(sampling);
  let hosts: LabHost[] | null = null;
  if (args.hosts !== undefined) {
    hosts = chooseHosts(readPool(args.hosts), args.host, args.hosts);
    // A key that cannot be read is the user's to fix now, not a failed run later.
    for (const h of hosts) h.privateKey();
  }
  for (const stack of stacks) {
    for (const host of args.sandbox ? [sandboxStandIn()] : hosts ?? [null]) checkStackTarget(projectDir, { stack, host, runId: "check" });
    // A round adds cells to a booted lab: only in-lab arms have both arms there. Per-variant
    // stacks would need an up and a destroy per sample, which --samples already does.
    if (sampling !== null && !loadStack(projectDir, stack).matrix.usoArms) {
      throw new UsageError(
        `--budget: stack ${stack} has matrix.usoArms false; --budget samples both USO arms inside one booted lab, round after round: ` +
          "give stacks with matrix.usoArms: true (e.g. sandbox-mtu1500-uso-arms), or use --samples N for per-variant stacks",
      );
    }
  }
  if (runtime.realEngine && passphraseSource(projectDir) === null) throw missingPassphrase(projectDir, backendUrl(projectDir));

  const outDir = path.resolve(args.out);
  const owned = await OwnerLock.acquire(path.join(outDir, ".sweep"));
  if ("holder" in owned) {
    const h = owned.holder;
    throw new UsageError(
      `${args.out}: another sweep is writing this folder` +
        (h !== null && isRunning(h.owner) ? ` (pid ${h.owner.pid}, since ${h.since})` : "") +
        "; wait for it, or give another --out",
    );
  }
  owned.lock.write({ out: outDir });
  const logFile = path.resolve(args.log ?? path.join(outDir, "engine.log"));
  const progress = new SweepProgress({
    io,
    logFile,
    quiet: args.quiet,
    live: runtime.live,
    writeLive: (t) => process.stderr.write(t),
    now: runtime.now,
  });
  progress.say(`sweep: the engine's whole output goes to ${logFile}`);
  const abort = new AbortController();
  // Kept for the whole sweep: a second Ctrl-C must not kill this process before the sandbox is removed.
  const onSignal = (signal: NodeJS.Signals) => {
    if (abort.signal.aborted) return;
    progress.say(`sweep: ${signal}: cancelling; run the same command again to resume`);
    abort.abort();
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, onSignal);
  let sandbox: { stop(): Promise<void>; labHost: LabHost } | undefined;
  let failed = true;
  try {
    if (args.sandbox) {
      const t0 = Date.now();
      sandbox = await startSandbox(projectDir, (l) => progress.say(l), 0);
      progress.say(`sandbox: up in ${elapsed(Date.now() - t0)}`);
      hosts = [sandbox.labHost];
    }
    const outcome = await runSweep(
      {
        stacks,
        outDir,
        samples: args.samples,
        shuffle: args.shuffle,
        seed: args.seed,
        keep: args.keep,
        failIf: args.failIf,
        hosts,
        shard,
        removeCommand: removeCommand(args),
        sampling,
      },
      workspace(abort.signal),
      progress,
      abort.signal,
    );
    for (const m of outcome.messages) io.err(m);
    failed = outcome.exitCode === 3 && !abort.signal.aborted;
    return abort.signal.aborted ? 130 : outcome.exitCode;
  } catch (e) {
    // A user's mistake found late (the passphrase) is its message; anything else is a crash.
    failed = describeFailure(e, false).code !== 2;
    throw e;
  } finally {
    for (const sig of ["SIGINT", "SIGTERM"] as const) process.off(sig, onSignal);
    try {
      if (sandbox !== undefined) {
        const t0 = Date.now();
        await sandbox.stop();
        progress.say(`sandbox: removed in ${elapsed(Date.now() - t0)}`);
      }
    } finally {
      if (failed && !args.quiet) {
        io.err(`last 20 lines of ${logFile}:`);
        for (const l of progress.tail(20)) io.err(`  ${l}`);
      }
      io.err(`engine log: ${logFile}`);
      progress.close();
      owned.lock.release();
    }
  }
}
