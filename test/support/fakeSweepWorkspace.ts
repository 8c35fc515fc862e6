import * as fs from "node:fs";
import * as path from "node:path";
import type { LabHost } from "../../src/hosts/pool";
import type { PhaseEvent, SweepListener, SweepPhase } from "../../src/sweep/run";
import type { EngineListener, SweepStack, SweepTarget, SweepWorkspace } from "../../src/sweep/workspace";

const FIXTURES = path.join(__dirname, "..", "fixtures", "report", "stacks");

/** A pool host for the fake: nothing to reach, a key that is only a word. */
export function fakeHost(name: string): LabHost {
  return { name, address: `192.0.2.${name.length}`, user: "root", port: 22, privateKey: () => `key of ${name}`, keySource: "a test" };
}

/**
 * Stands in for the Pulumi CLI: `up` "deploys" the engine stack after `delayMs` (so runs on two
 * hosts overlap), `outputs` gives the recorded fixture of the committed stack with the runId it
 * ran with, `destroy` tears down. Every call is recorded with its engine stack, and failures can
 * be injected per engine stack (`failUp`, `failDestroy`) and per host (`down`: its probe fails).
 */
export class FakeWorkspace implements SweepWorkspace {
  readonly calls: string[] = [];
  readonly deployed = new Map<string, string | undefined>();
  readonly failUp = new Set<string>();
  readonly failDestroy = new Set<string>();
  readonly down = new Map<string, string>();
  /** Called when an up begins: a test can fail a host "in the middle of its up". */
  onUp: (engineStack: string) => void = () => undefined;
  /** Up intervals per engine stack, from the fake's clock. */
  readonly intervals: { stack: string; host: string | null; start: number; end: number }[] = [];

  constructor(private readonly delayMs = 0) {}

  async select(target: SweepTarget): Promise<SweepStack> {
    if (!fs.existsSync(path.join(FIXTURES, `${target.stack}.json`))) throw new Error(`no stack named '${target.stack}' found`);
    const name = target.host === null ? target.stack : `${target.stack}.${target.host.name}`;
    const ws = this;
    return {
      name,
      async up(l: EngineListener) {
        ws.calls.push(`up ${name} ${target.runId}`);
        const start = Date.now();
        ws.onUp(name);
        l.output(`Updating (${name})\n`);
        l.step("host-readiness", "running");
        if (ws.delayMs > 0) await new Promise((r) => setTimeout(r, ws.delayMs));
        if (ws.failUp.has(name) || (target.host !== null && ws.down.has(target.host.name))) {
          l.step("host-readiness", "failed");
          throw new Error(`error: update failed\n  command:remote:Command (host-readiness):\n    error: exit status 255: dial failed on ${name}`);
        }
        l.step("host-readiness", "done");
        l.output("+ 17 created\n");
        ws.deployed.set(name, target.runId);
        ws.intervals.push({ stack: name, host: target.host?.name ?? null, start, end: Date.now() });
      },
      async outputs() {
        if (!ws.deployed.has(name)) return {};
        return { ...JSON.parse(fs.readFileSync(path.join(FIXTURES, `${target.stack}.json`), "utf8")), runId: ws.deployed.get(name) };
      },
      async unlock() {
        ws.calls.push(`unlock ${name}`);
      },
      async destroy() {
        ws.calls.push(`destroy ${name}`);
        if (ws.failDestroy.has(name) || (target.host !== null && ws.down.has(target.host.name))) throw new Error(`destroy of ${name} failed`);
        ws.deployed.delete(name);
      },
    };
  }

  async probe(host: LabHost): Promise<string | null> {
    this.calls.push(`probe ${host.name}`);
    return this.down.get(host.name) ?? null;
  }
}

/** Records what a sweep says, as the CLI's progress would see it. */
export class RecordingListener implements SweepListener {
  readonly notes: string[] = [];
  readonly phases: string[] = [];
  readonly engineLines: string[] = [];
  readonly plans: { remaining: Record<SweepPhase, number>; workers: number }[] = [];

  note(line: string): void {
    this.notes.push(line);
  }
  plan(remaining: Record<SweepPhase, number>, workers: number): void {
    this.plans.push({ remaining: { ...remaining }, workers });
  }
  phaseStart(e: PhaseEvent): void {
    this.phases.push(`start ${e.tag} ${e.phase}`);
  }
  phaseEnd(e: PhaseEvent, ok: boolean): void {
    this.phases.push(`${ok ? "end" : "fail"} ${e.tag} ${e.phase}`);
  }
  engine(stack: string): EngineListener {
    return { output: (t) => this.engineLines.push(`${stack} │ ${t.trim()}`), step: () => undefined };
  }
}
