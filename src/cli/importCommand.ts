import * as fs from "node:fs";
import * as path from "node:path";
import { DEFAULT_MTU, importIperf3, type ImportOptions, type ImportResult } from "../results/importIperf3";
import { IPV4_UDP_HEADER_BYTES } from "../config/features";
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

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * `import-iperf3`: every file becomes a cell (ok, invalid, or failed with iperf3's error) or a
 * refusal with its reason; one bad file never stops the others. Exit 0 when every file was
 * imported, 1 when some were refused. Bad arguments throw a UsageError (exit 2) before anything
 * is written, and so does a payload above 1500 − 28 without `--mtu`: the MTU decides whether
 * the run was IP-fragmented, and only the user knows it.
 */
export function importCommand(args: readonly string[], opts: ImportOptions & { out: string }, io: CommandIo): number {
  if (opts.variant !== undefined && opts.variant.trim() === "") {
    throw new UsageError("import-iperf3: --variant must not be empty; leave it out to have it built from --os, --mtu and --uso");
  }
  const files = inputFiles(args);
  if (files.length === 0) throw new UsageError(`import-iperf3: no .json files in ${args.join(", ")}`);
  const outcome = importIperf3(files.map((file) => ({ file, text: fs.readFileSync(file, "utf8") })), opts);
  const { imported, refused, mtuMissing } = outcome;
  const first = mtuMissing[0];
  if (first !== undefined) {
    const more = mtuMissing.length > 1 ? ` (and ${plural(mtuMissing.length - 1, "more file")})` : "";
    throw new UsageError(
      `import-iperf3: ${first.file}${more} sent ${first.payloadBytes} B datagrams, above ${DEFAULT_MTU} − ${IPV4_UDP_HEADER_BYTES} (the MTU assumed without --mtu)\n` +
        "Pass --mtu with the path MTU the runs used; nothing was written.",
    );
  }
  fs.mkdirSync(path.dirname(path.resolve(opts.out)), { recursive: true });
  const cells = imported.map((i) => i.cell);
  const result: ImportResult = { variant: outcome.variant, factors: outcome.factors, cells };
  fs.writeFileSync(opts.out, JSON.stringify(result, null, 2) + "\n");

  const failed = cells.filter((c) => c.status === "failed");
  io.out(
    `import-iperf3: ${plural(files.length, "file")}: ${cells.length - failed.length} imported, ${failed.length} as failed ${failed.length === 1 ? "cell" : "cells"}, ` +
      `${refused.length} refused; ${plural(cells.length, "cell")} of variant ${outcome.variant} in ${opts.out}`,
  );
  for (const { file, cell } of imported.filter((i) => i.cell.status !== "ok")) {
    const payload = cell.payloadBytes === null ? " (payload unknown: pass --payload)" : "";
    io.out(`  ${cell.status === "failed" ? "failed " : "invalid"} ${file}: ${cell.error}${payload}`);
  }
  for (const r of refused) io.out(`  refused ${r.file}: ${r.reason}`);
  if (opts.uso === undefined && cells.length > 0) io.out("  note: no --uso, so these cells are in neither USO arm and in no verdict row");
  return refused.length > 0 ? 1 : 0;
}
