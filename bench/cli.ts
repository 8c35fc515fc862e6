// How fast the CLI starts: `offload-lab --help`, `--version` and `render` of one stack, as a
// user runs them (`node bin/offload-lab.js`, a new process each time), in three arms:
//   before   the CLI of commit BENCH_CLI_BASE (default f9d53af, the last one that ran the
//            TypeScript through tsx and loaded every subcommand's modules on start), extracted
//            with `git archive` into a temporary folder;
//   source   today's sources through tsx (lazy subcommands, no compiled output);
//   compiled today's bin/offload-lab.js (dist/, built by scripts/build.js).
// Arms run interleaved, in a shuffled order per round, n = BENCH_N rounds; each ratio is
// mean(arm)/mean(before) with Welch's 95 % interval on the logs. Goals (issue 20): --help and
// --version under 0.3 s, render under 1 s on this machine. Printed, never asserted.
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { welchInterval } from "../src/report/stats";

const ROOT = path.resolve(__dirname, "..");
const N = Number(process.env.BENCH_N ?? 8);
const BASE = process.env.BENCH_CLI_BASE ?? "f9d53af";
const PAUSE_MS = 200;

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** mean(b)/mean(a) with Welch's 95 % interval on the logs: a ratio's interval. */
function ratio(a: readonly number[], b: readonly number[]): string {
  const w = welchInterval(a.map(Math.log), b.map(Math.log));
  if (w === null) return "n/a (fewer than two runs in an arm)";
  return `${Math.exp(w.diff).toFixed(3)} [95 % ${Math.exp(w.low).toFixed(3)}..${Math.exp(w.high).toFixed(3)}]`;
}

function shuffled<T>(xs: readonly T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

function seconds(argv: readonly string[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, argv, { cwd: ROOT, encoding: "utf8" });
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  // The base commit has no --version (exit 2): its start-up is still what is measured.
  if (r.status !== 0 && r.status !== 2) throw new Error(`${argv.join(" ")} exited ${r.status}: ${r.stderr}`);
  return s;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ol-bench-cli-"));
  try {
    // The base commit's CLI, beside today's node_modules (its dependencies are a subset).
    const before = path.join(tmp, "before");
    fs.mkdirSync(before);
    execFileSync("bash", ["-c", `git -C "$1" archive "$2" bin src package.json tsconfig.json | tar -x -C "$3"`, "_", ROOT, BASE, before]);
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(before, "node_modules"));
    // Today's sources through tsx, both of its hooks (main.ts loads each subcommand with import()).
    const fromSource = ["--import", "tsx", "-e", `require("./src/cli/main.ts").main(["node", "offload-lab", ...process.argv.slice(1)]).then((c) => { process.exitCode = c; })`, "--"];
    const arms = {
      before: [path.join(before, "bin", "offload-lab.js")],
      source: fromSource,
      compiled: [path.join(ROOT, "bin", "offload-lab.js")],
    } as const;
    const commands = {
      "--help": ["--help"],
      "--version": ["--version"],
      "render linux-uso-on": ["--project", ROOT, "render", "--stack", "linux-uso-on", "--out", path.join(tmp, "render")],
    } as const;
    const goal: Record<keyof typeof commands, number> = { "--help": 0.3, "--version": 0.3, "render linux-uso-on": 1 };
    type Arm = keyof typeof arms;
    type Cmd = keyof typeof commands;
    const times = new Map<string, number[]>();
    const key = (c: Cmd, a: Arm) => `${c}/${a}`;
    // Warm-up, not measured: builds dist/ if a source changed and fills tsx's cache.
    for (const a of Object.keys(arms) as Arm[]) for (const c of Object.keys(commands) as Cmd[]) seconds([...arms[a], ...commands[c]]);
    for (let round = 0; round < N; round++) {
      for (const c of Object.keys(commands) as Cmd[]) {
        for (const a of shuffled(Object.keys(arms) as Arm[])) {
          const t = seconds([...arms[a], ...commands[c]]);
          times.set(key(c, a), [...(times.get(key(c, a)) ?? []), t]);
          await sleep(PAUSE_MS);
        }
      }
    }
    console.log(`bench/cli: start-up of node bin/offload-lab.js, a new process per run, arms interleaved in shuffled order, n=${N}, before = ${BASE}`);
    for (const c of Object.keys(commands) as Cmd[]) {
      const [b = [], s = [], k = []] = (["before", "source", "compiled"] as const).map((a) => times.get(key(c, a)) ?? []);
      const met = mean(k) < goal[c] ? "met" : "NOT met";
      console.log(
        `  ${c}: before ${mean(b).toFixed(2)} s, source ${mean(s).toFixed(2)} s, compiled ${mean(k).toFixed(2)} s ` +
          `(goal < ${goal[c]} s: ${met}); source/before = ${ratio(b, s)}, compiled/before = ${ratio(b, k)}`,
      );
    }
    const bare: number[] = [];
    for (let i = 0; i < N; i++) bare.push(seconds(["-e", "0"]));
    console.log(`  for scale: node -e 0 takes ${mean(bare).toFixed(2)} s here now`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
