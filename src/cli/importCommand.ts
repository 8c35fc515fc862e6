import * as fs from "node:fs";
import * as path from "node:path";
import { importIperf3, type ImportOptions } from "../results/importIperf3";
import { UsageError } from "./errors";
import type { CommandIo } from "./io";

/** The files to read: each argument as given, a folder as its `*.json` files in sorted order. */
function inputFiles(args: readonly string[]): string[] {
  const missing = args.filter((a) => !fs.existsSync(a));
  if (missing.length > 0) {
    throw new UsageError(
      `import-iperf3: ${missing.length === 1 ? "no such file" : "no such files"}: ${missing.join(", ")}\n` +
        "Nothing was imported; give iperf3 -J output files or folders of them.",
    );
  }
  return args.flatMap((a) =>
    fs.statSync(a).isDirectory()
      ? fs.readdirSync(a).filter((n) => n.endsWith(".json")).sort().map((n) => path.join(a, n))
      : [a],
  );
}

/**
 * `import-iperf3`: every file becomes a cell (ok, invalid, or failed with iperf3's error) or a
 * refusal with its reason; one bad file never stops the others. Exit 0 when every file was
 * imported, 1 when some were refused. Bad arguments throw a UsageError (exit 2) before anything is written.
 */
export function importCommand(args: readonly string[], opts: ImportOptions & { out: string }, io: CommandIo): number {
  const files = inputFiles(args);
  if (files.length === 0) throw new UsageError(`import-iperf3: no .json files in ${args.join(", ")}`);
  const { imported, refused } = importIperf3(files.map((file) => ({ file, text: fs.readFileSync(file, "utf8") })), opts);
  fs.mkdirSync(path.dirname(path.resolve(opts.out)), { recursive: true });
  const cells = imported.map((i) => i.cell);
  fs.writeFileSync(opts.out, JSON.stringify(cells, null, 2) + "\n");

  const failed = cells.filter((c) => c.status === "failed");
  const nFiles = (n: number) => `${n} file${n === 1 ? "" : "s"}`;
  io.out(
    `import-iperf3: ${nFiles(files.length)}: ${cells.length - failed.length} imported, ${failed.length} as failed cells, ` +
      `${refused.length} refused; ${cells.length} cells in ${opts.out}`,
  );
  for (const { file, cell } of imported.filter((i) => i.cell.status !== "ok")) {
    const payload = cell.payloadBytes === null ? " (payload unknown: pass --payload)" : "";
    io.out(`  ${cell.status === "failed" ? "failed " : "invalid"} ${file}: ${cell.error}${payload}`);
  }
  for (const r of refused) io.out(`  refused ${r.file}: ${r.reason}`);
  return refused.length > 0 ? 1 : 0;
}
