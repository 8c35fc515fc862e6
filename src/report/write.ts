import * as fs from "node:fs";
import * as path from "node:path";
import { analyze } from "./compare";
import { renderCsv } from "./csv";
import { renderHtml } from "./html";
import { loadInputs, ReportInputError } from "./load";
import { renderMarkdown } from "./markdown";
import { checkRule, FailRuleError, parseFailRule, type RuleCheck } from "./thresholds";

export interface ReportOutcome {
  /** 0 all well, 1 a --fail-if rule breached, 2 unusable inputs or rules. */
  readonly exitCode: number;
  readonly files: string[];
  readonly messages: string[];
}

/** Loads results, writes report.md, results.csv and report.html into `outDir`, checks `--fail-if`. */
export async function writeReport(
  inputs: string[],
  outDir: string,
  opts: { failIf?: string[]; progress?: (line: string) => void },
): Promise<ReportOutcome> {
  const progress = opts.progress ?? (() => undefined);
  let rules;
  let runs;
  try {
    rules = (opts.failIf ?? []).map(parseFailRule);
    progress(`report: reading ${inputs.length} input${inputs.length === 1 ? "" : "s"}`);
    runs = loadInputs(inputs);
  } catch (e) {
    if (e instanceof ReportInputError || e instanceof FailRuleError) return { exitCode: 2, files: [], messages: [e.message] };
    throw e;
  }
  const cellCount = runs.reduce((n, r) => n + r.cells.length, 0);
  progress(`report: ${cellCount} cells from ${new Set(runs.map((r) => r.source)).size} files; comparing`);
  const analysis = analyze(runs);
  const messages: string[] = [];
  const checks: RuleCheck[] = [];
  let unmatched = false;
  for (const rule of rules) {
    const found = checkRule(rule, analysis);
    if (found.length === 0) {
      unmatched = true;
      messages.push(`${rule.text}: selects no pair of variants in these inputs`);
    }
    checks.push(...found);
  }
  await fs.promises.mkdir(outDir, { recursive: true });
  const outputs: Array<[string, string]> = [
    ["report.md", renderMarkdown(analysis, checks)],
    ["results.csv", renderCsv(analysis.rows)],
    ["report.html", renderHtml(analysis, checks)],
  ];
  const files: string[] = [];
  for (const [name, text] of outputs) {
    progress(`report: writing ${name}`);
    const file = path.join(outDir, name);
    await fs.promises.writeFile(file, text);
    files.push(file);
  }
  const excluded = analysis.rows.filter((r) => !r.counted).length;
  messages.unshift(`${analysis.rows.length} cells from ${new Set(runs.map((r) => r.source)).size} files, ${excluded} excluded; wrote ${files.join(", ")}`);
  messages.push(...checks.map((c) => c.message));
  const exitCode = unmatched ? 2 : checks.some((c) => c.breached) ? 1 : 0;
  return { exitCode, files, messages };
}
