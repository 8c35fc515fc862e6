#!/usr/bin/env node
// Compiles src/ to dist/ for the CLI: every .ts file to a .js file at the same relative path
// (esbuild, the transform tsx itself runs, so compiled code behaves as the sources under tsx),
// and every other file under src/ (the scripts steps run, data files) copied beside it, so
// `path.join(__dirname, "x.sh")` finds the same file from dist/ as from src/.
//
// `npm ci` runs it as the root package's `prepare` script (npm runs the root package's own
// scripts even where it runs no dependency's), and bin/offload-lab.js calls ensureBuilt() on
// every start: a source changed since the last build (an edit, a checkout, a pull) is compiled
// again before the command runs. Types are checked by `npm run typecheck`, not here.
//
// The Pulumi program (src/index.ts, loaded by the engine's ts-node) and the command provider
// (provider/pulumi-resource-command, through tsx) still run from the sources.
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const PROJECT = path.resolve(__dirname, "..");

/** Where a project's sources, compiled output and build record are. */
function layout(root) {
  const out = path.join(root, "dist");
  return { root, src: path.join(root, "src"), out, stamp: path.join(out, ".build-stamp"), tsconfig: path.join(root, "tsconfig.json") };
}

/** Every file under src/, relative, sorted; `.ts` files are compiled, the rest copied. */
function sourceFiles(src) {
  return fs
    .readdirSync(src, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.relative(src, path.join(d.parentPath ?? d.path, d.name)))
    .sort();
}

/**
 * Names, sizes and modification times of the inputs: cheap enough for every start (a stat per
 * file), and any edit, added or deleted file changes it.
 */
function inputDigest(p, files) {
  const h = crypto.createHash("sha256");
  // Besides the sources, what decides the output: this file and the compiler options.
  for (const f of [...files.map((r) => path.join(p.src, r)), __filename, p.tsconfig]) {
    const s = fs.statSync(f);
    h.update(`${path.relative(p.root, f)}\t${s.size}\t${s.mtimeMs}\n`);
  }
  return h.digest("hex");
}

/** Written beside the target and renamed over it: a CLI starting meanwhile never reads half a file. */
function writeAtomic(file, contents, mode) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, contents, { mode });
  fs.renameSync(tmp, file);
}

function build(p, files, digest) {
  const esbuild = require("esbuild");
  const entryPoints = files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")).map((f) => path.join(p.src, f));
  const result = esbuild.buildSync({
    entryPoints,
    outdir: p.out,
    outbase: p.src,
    format: "cjs",
    platform: "node",
    target: "node20",
    sourcemap: "linked",
    tsconfig: p.tsconfig,
    write: false,
    logLevel: "silent",
    // `await import("./x")` loads a subcommand lazily; as require() it resolves as CommonJS does.
    supported: { "dynamic-import": false },
  });
  const written = new Set([p.stamp]);
  for (const o of result.outputFiles) {
    writeAtomic(o.path, o.contents, 0o644);
    written.add(o.path);
  }
  for (const f of files.filter((f) => !f.endsWith(".ts"))) {
    const from = path.join(p.src, f);
    const to = path.join(p.out, f);
    writeAtomic(to, fs.readFileSync(from), fs.statSync(from).mode & 0o777);
    written.add(to);
  }
  // A source deleted or renamed leaves no module behind that could still be required.
  for (const d of fs.readdirSync(p.out, { recursive: true, withFileTypes: true })) {
    const f = path.join(d.parentPath ?? d.path, d.name);
    if (d.isFile() && !written.has(f)) fs.rmSync(f, { force: true });
  }
  writeAtomic(p.stamp, `${digest}\n`, 0o644);
}

/**
 * Builds dist/ when src/ changed since the last build; returns the compiled CLI entry and
 * whether it compiled. Throws when it cannot build (no esbuild, dist/ not writable): the
 * caller runs the sources instead. `root` is the project (another one only in tests).
 */
function ensureBuilt(root = PROJECT) {
  const p = layout(root);
  const files = sourceFiles(p.src);
  const digest = inputDigest(p, files);
  let current = null;
  try {
    current = fs.readFileSync(p.stamp, "utf8").trim();
  } catch {
    // never built
  }
  const compiled = current !== digest;
  if (compiled) build(p, files, digest);
  return { entry: path.join(p.out, "cli", "main.js"), compiled };
}

module.exports = { ensureBuilt };

if (require.main === module) {
  const started = Date.now();
  const { compiled } = ensureBuilt();
  const took = ((Date.now() - started) / 1000).toFixed(1);
  console.log(compiled ? `offload-lab: compiled src/ to dist/ in ${took} s` : "offload-lab: dist/ is up to date with src/");
}
