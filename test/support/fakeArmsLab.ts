import * as fs from "node:fs";
import * as path from "node:path";
import type { LabHost } from "../../src/hosts/pool";
import type { CellResult } from "../../src/results/cell";
import type { EngineListener, SweepStack, SweepTarget, SweepWorkspace } from "../../src/sweep/workspace";

// The cell shapes of a real run (test/fixtures/report-recorded, derived from recorded step
// output): the fake lab's cells are these with their arm, pair and numbers set.
const RECORDED = path.join(__dirname, "..", "fixtures", "report-recorded");
const template = (uso: "off" | "on", sender: "plain" | "gso"): CellResult =>
  (JSON.parse(fs.readFileSync(path.join(RECORDED, `sandbox-uso-${uso}.json`), "utf8")) as { cells: CellResult[] }).cells.find((c) => c.sender === sender)!;

export interface ArmsRow {
  readonly payload: number;
  readonly sender: "plain" | "gso";
  readonly bitrate: string;
}

/** What one cell measures: receiver throughput and guest CPU, per row, arm and pair. */
export type ArmsValues = (row: ArmsRow, arm: "off" | "on", pair: number) => { throughputMbps: number; guestCpuPercent: number };

export interface ArmsStackSpec {
  readonly mtu: number;
  /** The stack's matrix: its rows, each `repetitions` pairs (round 1). */
  readonly rows: readonly ArmsRow[];
  readonly repetitions: number;
  /** A cell's wall time on the host, as `wallSeconds`; null: the cells do not say it. */
  readonly wallSeconds: number | null;
}

/**
 * Stands in for the Pulumi CLI on in-lab arms stacks (matrix.usoArms): `up` "runs" the
 * benchmark (the stack's matrix, or the target's `benchmark.round`: its rows and repetitions
 * numbered from its firstRepetition) and `outputs` gives that benchmark's cells, one off and one
 * on cell per pair, as the lab's output would. Every call is recorded with the round it ran.
 */
export class FakeArmsLab implements SweepWorkspace {
  readonly calls: string[] = [];
  readonly deployed = new Set<string>();
  /** Called when an up begins, with its engine stack and round (1 for the matrix). */
  onUp: (engineStack: string, round: SweepTarget["round"]) => void = () => undefined;
  /** The benchmark's time passing: called with its cells' wall time by each up (a test moves its clock). */
  elapse: (seconds: number) => void = () => undefined;
  /** Outputs with no cells, as a lab that saved none would give. */
  noCells = false;
  /** Engine stacks whose next up fails (once each). */
  readonly failNextUp = new Set<string>();
  private readonly cells = new Map<string, CellResult[]>();

  constructor(
    private readonly stacks: Readonly<Record<string, ArmsStackSpec>>,
    private readonly values: ArmsValues,
  ) {}

  private benchmark(stack: string, target: SweepTarget): CellResult[] {
    const spec = this.stacks[stack]!;
    const rows = target.round
      ? target.round.rows.map((r) => ({ row: { payload: r.payload, sender: r.sender as "plain" | "gso", bitrate: r.bitrate }, reps: r.repetitions }))
      : spec.rows.map((row) => ({ row, reps: spec.repetitions }));
    const first = target.round?.firstRepetition ?? 1;
    const out: CellResult[] = [];
    for (const { row, reps } of rows) {
      for (let pair = first; pair < first + reps; pair++) {
        for (const arm of ["off", "on"] as const) {
          const v = this.values(row, arm, pair);
          out.push({
            ...template(arm, row.sender),
            id: `udp-${row.payload}B-${row.sender}-b${row.bitrate}-${stack}-r${pair}-${arm}`,
            variant: stack,
            payloadBytes: row.payload,
            mtu: spec.mtu,
            bitrate: row.bitrate,
            repetition: pair,
            arm,
            pair,
            throughputBps: v.throughputMbps * 1e6,
            guestCpuPercent: v.guestCpuPercent,
            ...(spec.wallSeconds === null ? {} : { wallSeconds: spec.wallSeconds }),
          });
        }
      }
    }
    return out;
  }

  async select(target: SweepTarget): Promise<SweepStack> {
    const spec = this.stacks[target.stack];
    if (spec === undefined) throw new Error(`no stack named '${target.stack}' found`);
    const name = target.host === null ? target.stack : `${target.stack}.${target.host.name}`;
    const lab = this;
    const round = target.round === undefined ? "matrix" : `round from ${target.round.firstRepetition}: ${target.round.rows.map((r) => `${r.payload}/${r.sender}/${r.bitrate}×${r.repetitions}`).join(", ")}`;
    return {
      name,
      async up(l: EngineListener) {
        lab.calls.push(`up ${name} ${round}`);
        lab.onUp(name, target.round);
        if (lab.failNextUp.delete(name)) throw new Error(`error: update failed\n  command:remote:Command (benchmark):\n    error: exit status 1 on ${name}`);
        l.output("~ 1 replaced\n");
        lab.deployed.add(name);
        const cells = lab.benchmark(target.stack, target);
        lab.cells.set(name, cells);
        lab.elapse(cells.length * (spec.wallSeconds ?? 0));
      },
      async outputs() {
        if (!lab.deployed.has(name) || lab.noCells) return { stack: target.stack };
        return {
          stack: target.stack,
          variant: target.stack,
          factors: { os: "linux", mtu: spec.mtu, uso: null, arms: true, host: target.host?.name ?? null },
          cells: lab.cells.get(name),
        };
      },
      async unlock() {
        lab.calls.push(`unlock ${name}`);
      },
      async destroy() {
        lab.calls.push(`destroy ${name}`);
        lab.deployed.delete(name);
      },
    };
  }

  async probe(host: LabHost): Promise<string | null> {
    this.calls.push(`probe ${host.name}`);
    return null;
  }
}
