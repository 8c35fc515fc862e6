import * as fs from "node:fs";
import * as path from "node:path";
import { analyze } from "./compare";
import { renderCsv } from "./csv";
import { plural } from "./format";
import { renderHtml } from "./html";
import { loadInputs, ReportInputError } from "./load";
import { renderMarkdown } from "./markdown";
import { reportModel } from "./model";
import type { PrecisionTarget } from "./precision";
import { FailRuleError, parseFailRule, ruleLines, rulesExitCode } from "./thresholds";

export interface ReportOutcome {
  /** 0 all well, 1 a --fail-if rule breached, 2 unusable inputs or rules, or a rule that judged nothing. */
  readonly exitCode: number;
  readonly files: string[];
  readonly messages: string[];
}

/** Loads results, writes report.md, results.csv and report.html into `outDir`, checks `--fail-if`. */
export async function writeReport(
  inputs: string[],
  outDir: string,
  opts: { failIf?: string[]; progress?: (line: string) => void; target?: PrecisionTarget },
): Promise<ReportOutcome> {
  const progress = opts.progress ?? (() => undefined);
  let rules;
  let loaded;
  try {
    rules = (opts.failIf ?? []).map(parseFailRule);
    progress(`report: reading ${plural(inputs.length, "input")}`);
    loaded = loadInputs(inputs);
  } catch (e) {
    if (e instanceof ReportInputError || e instanceof FailRuleError) return { exitCode: 2, files: [], messages: [e.message] };
    throw e;
  }
  const { runs, notes } = loaded;
  const files = new Set(runs.map((r) => r.source)).size;
  const cellCount = runs.reduce((n, r) => n + r.cells.length, 0);
  progress(`report: ${plural(cellCount, "cell")} from ${plural(files, "file")}; comparing`);
  const model = reportModel(analyze(runs, notes), rules, opts.target);
  await fs.promises.mkdir(outDir, { recursive: true });
  const outputs: Array<[string, string]> = [
    ["report.md", renderMarkdown(model)],
    ["results.csv", renderCsv(model)],
    ["report.html", renderHtml(model)],
  ];
  const written: string[] = [];
  for (const [name, text] of outputs) {
    progress(`report: writing ${name}`);
    const file = path.join(outDir, name);
    await fs.promises.writeFile(file, text);
    written.push(file);
  }
  const { rows } = model.analysis;
  const excluded = rows.filter((r) => !r.counted).length;
  const messages = [
    `${plural(rows.length, "cell")} from ${plural(files, "file")}, ${excluded} excluded; wrote ${written.join(", ")}`,
    ...notes,
    ...model.rules.flatMap(({ rule, outcome }) => ruleLines(rule, outcome)),
  ];
  return { exitCode: rulesExitCode(model.rules.map((r) => r.outcome)), files: written, messages };
}
