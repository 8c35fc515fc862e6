import * as path from "node:path";
import { Command, CommanderError } from "commander";
import { ConfigError } from "../config/errors";
import { loadStack } from "../config/stackFile";
import { planLab } from "../plan/lab";
import { guestStepCommand, transportFor } from "../plan/transport";
import * as fs from "node:fs";
import { importIperf3 } from "../results/importIperf3";
import { writeReport } from "../report/write";
import { automationWorkspace } from "../sweep/automation";
import { runSweep } from "../sweep/run";
import { passphraseProblem } from "../engine/environment";
import { startSandbox } from "../sandbox/session";
import { addEngineCommands } from "./engine";
import { renderPlan, writeFiles } from "./render";

const collect = (value: string, previous: string[]) => [...previous, value];

/** Exit codes: 0 done, 1 failed, 2 invalid configuration or usage. */
export async function main(argv: readonly string[]): Promise<number> {
  let code = 0;
  const program = new Command("offload-lab")
    .description("KVM network-offload lab: render, import and compare iperf3 results")
    .exitOverride()
    .option("--project <dir>", "the project directory holding Pulumi.yaml and stacks/", process.cwd());

  program
    .command("render")
    .description("write every XML document and script a stack runs, plus manifest.json, without Pulumi or a host")
    .requiredOption("--stack <name>", "stack name: stacks/Pulumi.<name>.yaml")
    .requiredOption("--out <dir>", "output directory")
    .action((opts: { stack: string; out: string }) => {
      const cfg = loadStack(program.opts().project, opts.stack);
      const transport = transportFor(cfg);
      const steps = planLab(cfg, transport);
      const files = renderPlan(cfg, steps, transport, (s) => guestStepCommand(transport, s));
      writeFiles(path.resolve(opts.out), files);
      console.log(`${opts.stack}: ${steps.length} steps, ${files.size} files in ${opts.out}`);
    });

  program
    .command("import-iperf3")
    .description("turn iperf3 JSON files from manual runs into cell results, to sit beside the lab's")
    .argument("<files...>", "iperf3 -J output files")
    .requiredOption("--out <file>", "where to write the results (a JSON array of cell results)")
    .option("--payload <bytes>", "UDP payload, when the file does not say", (v) => Number.parseInt(v, 10))
    .option("--mtu <bytes>", "path MTU of the run (default 1500)", (v) => Number.parseInt(v, 10))
    .option("--variant <name>", "variant label, e.g. mtu9000-uso-on-manual")
    .action((files: string[], opts: { out: string; payload?: number; mtu?: number; variant?: string }) => {
      const cells = importIperf3(files, { payload: opts.payload, mtu: opts.mtu, variant: opts.variant });
      fs.writeFileSync(opts.out, JSON.stringify(cells, null, 2) + "\n");
      console.log(`${cells.length} cell results in ${opts.out}`);
    });

  program
    .command("report")
    .description("compare stacks: report.md, results.csv and report.html from stack outputs or import-iperf3 results")
    .argument("<inputs...>", "files saved with `pulumi stack output --json`, import-iperf3 results, or folders of them")
    .requiredOption("--out <dir>", "output directory")
    .option("--fail-if <rule>", "exit 1 when breached, e.g. throughput-drop:uso>5% (repeatable)", collect, [])
    .action(async (inputs: string[], opts: { out: string; failIf: string[] }) => {
      const outcome = await writeReport(inputs, path.resolve(opts.out), { failIf: opts.failIf });
      for (const m of outcome.messages) console.error(m);
      for (const f of outcome.files) console.log(f);
      code = outcome.exitCode;
    });

  program
    .command("sweep")
    .description("with the Pulumi Automation API: up, save outputs and destroy each stack in turn, then report")
    .requiredOption("--stacks <list>", "comma-separated stack names")
    .requiredOption("--out <dir>", "where outputs, the resume state and the report go")
    .option("--samples <n>", "runs per stack", (v) => Number.parseInt(v, 10), 1)
    .option("--shuffle", "shuffle the stack order in each sample (seeded, recorded)", false)
    .option("--seed <n>", "shuffle seed", (v) => Number.parseInt(v, 10))
    .option("--keep", "do not destroy a stack after its run", false)
    .option("--fail-if <rule>", "passed to the report (repeatable)", collect, [])
    .option("--sandbox", "bring up the sandbox KVM host (root, Linux) for the sandbox-* stacks first and remove it at the end", false)
    .action(async (opts: { stacks: string; out: string; samples: number; shuffle: boolean; seed?: number; keep: boolean; failIf: string[]; sandbox: boolean }) => {
      const problem = passphraseProblem();
      if (problem !== null) {
        console.error(problem);
        code = 2;
        return;
      }
      if (opts.sandbox && opts.keep) {
        console.error("--keep with --sandbox: the sandbox and its stacks are removed at the end, nothing can be kept");
        code = 2;
        return;
      }
      const projectDir = path.resolve(program.opts().project);
      const sandbox = opts.sandbox ? await startSandbox(projectDir, (l) => console.log(l)) : undefined;
      // Ctrl-C or a kill: the running up/destroy is cancelled (the CLI gets SIGINT), the progress
      // is saved, then the sandbox is removed (its guests and daemons would outlive this process).
      const abort = new AbortController();
      // Kept for the whole sweep: a second Ctrl-C must not kill this process before the sandbox is removed.
      const onSignal = (signal: NodeJS.Signals) => {
        if (abort.signal.aborted) return;
        console.error(`sweep: ${signal}: cancelling; run the same command again to resume`);
        abort.abort();
      };
      for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, onSignal);
      try {
        await sweepWith(opts, projectDir, abort.signal);
      } finally {
        await sandbox?.stop();
      }
      if (abort.signal.aborted) code = 130;
    });

  const sweepWith = async (
    opts: { stacks: string; out: string; samples: number; shuffle: boolean; seed?: number; keep: boolean; failIf: string[] },
    projectDir: string,
    signal: AbortSignal,
  ) => {
      const outcome = await runSweep(
        {
          stacks: opts.stacks.split(",").map((s) => s.trim()).filter(Boolean),
          outDir: path.resolve(opts.out),
          samples: opts.samples,
          shuffle: opts.shuffle,
          seed: opts.seed,
          keep: opts.keep,
          failIf: opts.failIf,
        },
        automationWorkspace(projectDir, signal),
        (line) => console.log(line),
      );
      for (const m of outcome.messages) console.error(m);
      code = outcome.exitCode;
  };

  addEngineCommands(program, (c) => (code = c));

  try {
    await program.parseAsync([...argv]);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      return 2;
    }
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      console.error((e as Error).message);
      return 2;
    }
    throw e;
  }
  return code;
}
