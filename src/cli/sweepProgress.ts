import * as fs from "node:fs";
import type { PhaseEvent, SweepListener, SweepPhase } from "../sweep/run";
import type { EngineListener } from "../sweep/workspace";
import type { CommandIo } from "./io";
import { elapsed } from "./progress";

export interface SweepProgressOptions {
  readonly io: CommandIo;
  /** Where the engine's whole output goes, with the sweep's own lines. */
  readonly logFile: string;
  readonly quiet: boolean;
  /** A terminal: one live line, rewritten in place, shows the running phases and steps. */
  readonly live: boolean;
  /** Writes the live line (stderr without a newline). */
  readonly writeLive?: (text: string) => void;
  readonly now?: () => number;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * What a sweep shows: on stderr one line per phase of each run when it ends (its duration, and
 * an estimate of the time left), the sweep's own notes, and on a terminal a live line; the
 * engine's full output goes only to the log file, each line stamped and named by its stack.
 */
export class SweepProgress implements SweepListener {
  private readonly start: number;
  private readonly now: () => number;
  private readonly log: number;
  private readonly running = new Map<PhaseEvent, { since: number; step: string | null }>();
  private remaining: Record<SweepPhase, number> = { up: 0, destroy: 0 };
  private workers = 1;
  private seen: Record<SweepPhase, number[]> = { up: [], destroy: [] };
  /** sweep --budget: the lab time left; the ups then are rounds, whose number the budget bounds, not a count. */
  private budgetLeft: number | null = null;
  private timer: NodeJS.Timeout | undefined;
  private liveShown = false;

  constructor(private readonly opts: SweepProgressOptions) {
    this.now = opts.now ?? Date.now;
    this.start = this.now();
    this.log = fs.openSync(opts.logFile, "a");
    this.logLine(`==== offload-lab ${process.argv.slice(2).join(" ")} (pid ${process.pid}) ${new Date().toISOString()}`);
    if (opts.live && !opts.quiet) {
      this.timer = setInterval(() => this.drawLive(), 1000);
      this.timer.unref();
    }
  }

  private stamp(): string {
    return `[${elapsed(this.now() - this.start)}]`;
  }

  private logLine(line: string): void {
    fs.writeSync(this.log, `${new Date().toISOString()} ${line}\n`);
  }

  /** A line on stderr (under the live line, which is redrawn after it) and in the log. */
  say(line: string): void {
    this.logLine(line);
    if (this.opts.quiet) return;
    this.clearLive();
    this.opts.io.err(`${this.stamp()} ${line}`);
    this.drawLive();
  }

  note(line: string): void {
    this.say(line);
  }

  plan(remaining: Record<SweepPhase, number>, workers: number, seen: Record<SweepPhase, number[]>, budgetLeftSeconds: number | null = null): void {
    this.budgetLeft = budgetLeftSeconds;
    this.remaining = remaining;
    this.workers = Math.max(1, workers);
    this.seen = seen;
  }

  /** Seconds left: the phases not begun at their mean so far, plus what the running ones have left, over the hosts. */
  estimate(): number | null {
    const m: Partial<Record<SweepPhase, number>> = {};
    for (const p of ["up", "destroy"] as const) if (this.seen[p].length > 0) m[p] = mean(this.seen[p]);
    if (m.up === undefined && (this.remaining.up > 0 || [...this.running.keys()].some((e) => e.phase === "up"))) return null;
    // Before the first destroy ends, a destroy is guessed at a fifth of an up (measured: 6-14 s against 42-67 s).
    const destroy = m.destroy ?? (m.up ?? 0) / 5;
    let work = this.remaining.up * (m.up ?? 0) + this.remaining.destroy * destroy;
    for (const [e, r] of this.running) work += Math.max(0, (e.phase === "up" ? m.up ?? 0 : destroy) - (this.now() - r.since) / 1000);
    return work / this.workers;
  }

  private left(): string {
    if (this.budgetLeft !== null) {
      // Rounds stop at the budget at the latest; the destroys come after it.
      const destroy = this.seen.destroy.length > 0 ? mean(this.seen.destroy) : 0;
      return `at most about ${elapsed((this.budgetLeft + (this.remaining.destroy * destroy) / this.workers) * 1000)} left`;
    }
    const s = this.estimate();
    return s === null ? "time left: known after the first up" : `about ${elapsed(s * 1000)} left`;
  }

  phaseStart(e: PhaseEvent): void {
    this.running.set(e, { since: this.now(), step: null });
    this.logLine(`${e.tag}: ${e.phase} started`);
    this.drawLive();
  }

  phaseEnd(e: PhaseEvent, ok: boolean, seconds: number): void {
    this.running.delete(e);
    this.say(`${e.tag}: ${e.phase} ${ok ? "done in" : "FAILED after"} ${elapsed(seconds * 1000)} · ${this.left()}`);
  }

  engine(engineStack: string): EngineListener {
    let partial = "";
    return {
      output: (text) => {
        const lines = (partial + text).split("\n");
        partial = lines.pop()!;
        for (const l of lines) if (l.trim() !== "") this.logLine(`${engineStack} │ ${l}`);
      },
      step: (step, status) => {
        for (const [e, r] of this.running) if (e.engineStack === engineStack) r.step = status === "running" ? step : r.step === step ? null : r.step;
        if (status === "failed") this.logLine(`${engineStack} │ step ${step} failed`);
      },
    };
  }

  private liveText(): string {
    const parts = [...this.running].map(([e, r]) => `${e.tag} ${e.phase} ${elapsed(this.now() - r.since)}${r.step ? ` (${r.step})` : ""}`);
    return `${this.stamp()} ${parts.join(" | ") || "…"} · ${this.left()}`;
  }

  private drawLive(): void {
    if (!this.opts.live || this.opts.quiet || this.running.size === 0 || !this.opts.writeLive) return;
    const width = process.stderr.columns ?? 120;
    const text = this.liveText();
    this.opts.writeLive(`\r\x1b[K${text.length > width - 1 ? `${text.slice(0, width - 2)}…` : text}`);
    this.liveShown = true;
  }

  private clearLive(): void {
    if (!this.liveShown || !this.opts.writeLive) return;
    this.opts.writeLive("\r\x1b[K");
    this.liveShown = false;
  }

  /** The last lines of the log, for a sweep that failed or crashed. */
  tail(n: number): string[] {
    const lines = fs.readFileSync(this.opts.logFile, "utf8").split("\n").filter((l) => l !== "");
    return lines.slice(-n);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.clearLive();
    fs.closeSync(this.log);
  }
}
