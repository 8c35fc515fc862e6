import * as path from "node:path";
import { Command, Option } from "commander";
import { version } from "../../package.json";
import type { SweepWorkspace } from "../sweep/workspace";
import { describeFailure } from "./errors";
import { consoleIo, type CommandIo } from "./io";
import { collect, collectFailRule, wholeNumber } from "./options";
import { progressTo } from "./progress";
import type { SweepArgs } from "./sweepCommand";
import { addEngineCommands } from "./engine";
import { EXAMPLES, FAIL_IF_HELP, REPORT_EXAMPLES, SWEEP_EXAMPLES } from "./helpText";

export interface MainDeps {
  readonly io: CommandIo;
  /** The Pulumi side of `sweep`; tests pass a fake. Unset: the Automation API. */
  readonly workspace?: (projectDir: string, signal?: AbortSignal) => SweepWorkspace;
  readonly now: () => number;
}

const DEFAULT_DEPS: MainDeps = { io: consoleIo, now: Date.now };

// Each subcommand's modules are loaded when it runs (`await import`): `--help`, `--version` and
// `render` need neither the report, the sandbox nor the Pulumi SDK (which takes about a second).

/**
 * Exit codes: 0 done; 1 some input refused or a --fail-if rule breached; 2 bad usage or input
 * (nothing touched a host); 3 a sweep stopped at a failed stack; 70 a fault in offload-lab itself.
 */
export async function main(argv: readonly string[], deps: Partial<MainDeps> = {}): Promise<number> {
  const { io, now } = { ...DEFAULT_DEPS, ...deps };
  let code = 0;
  const program = new Command("offload-lab")
    .description("KVM network-offload lab: render, import and compare iperf3 results")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .version(`offload-lab ${version}`, "-V, --version", "print the version of offload-lab")
    .showHelpAfterError("(add --help for usage)")
    .addHelpText("after", EXAMPLES)
    .option("--project <dir>", "the project directory holding Pulumi.yaml and stacks/", process.cwd())
    .option("--debug", "on an unexpected error, print its stack trace", false);

  program
    .command("render")
    .description("write every XML document and script a stack runs, plus manifest.json, without Pulumi or a host")
    .requiredOption("--stack <name>", "stack name: stacks/Pulumi.<name>.yaml")
    .requiredOption("--out <dir>", "output directory")
    .action(async (opts: { stack: string; out: string }) => {
      const { renderCommand } = await import("./renderCommand");
      code = renderCommand(path.resolve(program.opts().project), opts, io);
    });

  program
    .command("import-iperf3")
    .description("turn iperf3 JSON files from manual runs into cell results, to sit beside the lab's")
    .argument("<files...>", "iperf3 -J output files, or folders of them")
    .requiredOption("--out <file>", "where to write the results (a JSON array of cell results)")
    .option("--payload <bytes>", "UDP payload of runs whose file does not say (a run that failed before its test began)", wholeNumber(16, 65507))
    .option("--mtu <bytes>", "path MTU of the runs (default 1500; required for a payload above 1472 B)", wholeNumber(68, 65535))
    .addOption(new Option("--uso <on|off>", "the USO arm the runs were made in").choices(["on", "off"]))
    .addOption(new Option("--os <os>", "the guest OS that sent").choices(["linux", "windows"]))
    .option("--variant <name>", "variant label (default: built from --os, --mtu and --uso, e.g. imported-linux-mtu9000-uso-on)")
    .action(async (files: string[], opts: { out: string; payload?: number; mtu?: number; variant?: string; uso?: "on" | "off"; os?: "linux" | "windows" }) => {
      const { importCommand } = await import("./importCommand");
      code = importCommand(files, { ...opts, uso: opts.uso === undefined ? undefined : opts.uso === "on" }, io);
    });

  program
    .command("report")
    .description("compare stacks: report.md, results.csv and report.html from stack outputs, sweep folders or import-iperf3 results")
    .argument("<inputs...>", "files saved with `pulumi stack output --json`, import-iperf3 results, or folders of them")
    .requiredOption("--out <dir>", "output directory")
    .option("--fail-if <rule>", FAIL_IF_HELP, collectFailRule, [])
    .option("--quiet", "no progress lines", false)
    .addHelpText("after", REPORT_EXAMPLES)
    .action(async (inputs: string[], opts: { out: string; failIf: string[]; quiet: boolean }) => {
      const { writeReport } = await import("../report/write");
      const progress = progressTo(io, opts.quiet, now);
      const outcome = await writeReport(inputs, path.resolve(opts.out), { failIf: opts.failIf, progress });
      for (const m of outcome.messages) io.err(m);
      for (const f of outcome.files) io.out(f);
      code = outcome.exitCode;
    });

  program
    .command("sweep")
    .description("with the Pulumi Automation API: up, save outputs and destroy each stack × sample (on a pool of hosts, concurrently), then report")
    .requiredOption("--stacks <list>", "comma-separated stack names")
    .requiredOption("--out <dir>", "where outputs, the resume state, the engine log and the report go")
    .option("--samples <n>", "runs per stack", wholeNumber(1), 1)
    .option("--shuffle", "shuffle the stack order in each sample (seeded, recorded)", false)
    .option("--seed <n>", "shuffle seed", wholeNumber(0, 2 ** 31 - 1))
    .option("--keep", "do not destroy a stack after its run", false)
    .option("--fail-if <rule>", "passed to the report (repeatable); quote the rule, as for report", collectFailRule, [])
    .option("--quiet", "no progress lines", false)
    .option("--hosts <file>", "a pool of KVM hosts (YAML): each run on a free host, one lab per host, hosts concurrently")
    .option("--host <name>", "only this host of the pool (repeatable)", collect, [])
    .option("--shard <i/n>", "this job's share of the runs, for a CI matrix of n jobs")
    .option("--log <file>", "where the engine's whole output goes (default: OUT/engine.log)")
    .option("--sandbox", "bring up the sandbox KVM host (root, Linux) for the sandbox-* stacks first and remove it at the end", false)
    .option("--budget <time>", "sample each in-lab arms stack in rounds until every verdict row meets --precision, for at most this lab time (e.g. 20m, 90s, 1h)")
    .option("--precision <p>", "with --budget: the 95 % interval's half-width to reach, e.g. 10% or 0.1 (default 10%)")
    .option("--max-samples <n>", "with --budget: samples per arm at most, from 3 (default 30)")
    .addHelpText("after", SWEEP_EXAMPLES)
    .action(async (opts: SweepArgs) => {
      const project = path.resolve(program.opts().project);
      const { sweepCommand } = await import("./sweepCommand");
      const workspace = deps.workspace ?? (await import("../sweep/automation")).automationWorkspace;
      code = await sweepCommand(opts, project, (signal) => workspace(project, signal), io, {
        realEngine: deps.workspace === undefined,
        live: deps.io === undefined && process.stderr.isTTY === true,
        now,
      });
    });

  addEngineCommands(program, (c) => (code = c));

  try {
    await program.parseAsync([...argv]);
  } catch (e) {
    // Before parsing finished the option may not be known yet: look at the words themselves.
    const failure = describeFailure(e, argv.includes("--debug"));
    for (const line of failure.lines) io.err(line);
    return failure.code;
  }
  return code;
}
