#!/usr/bin/env node
// The CLI runs compiled JavaScript from dist/ (scripts/build.js: built by `npm ci`, and again
// here whenever a file under src/ changed since), so a command starts without compiling the
// TypeScript. If dist/ cannot be built (no esbuild, a read-only checkout) it runs the sources
// through tsx, as before, only slower.
"use strict";

async function entry() {
  try {
    return require("../scripts/build.js").ensureBuilt().entry;
  } catch (e) {
    console.error(`offload-lab: cannot build dist/ (${e instanceof Error ? e.message.split("\n")[0] : e}); running from the TypeScript sources, which starts slower`);
    // Both hooks: main.ts is required, and it loads each subcommand with import().
    require("tsx/cjs");
    (await import("tsx/esm/api")).register();
    return "../src/cli/main.ts";
  }
}

// Stack traces point into src/*.ts only when asked for: source maps cost start-up time.
if (process.argv.includes("--debug")) process.setSourceMapsEnabled(true);
entry().then((file) => require(file).main(process.argv)).then(
  (code) => { process.exitCode = code; },
  // main() turns every error into a message and an exit code; this is only the last resort.
  (err) => {
    const debug = process.argv.includes("--debug");
    console.error(`offload-lab: unexpected error: ${err instanceof Error ? err.message : err}`);
    console.error(debug && err instanceof Error ? err.stack : "Run the same command with --debug for the stack trace.");
    process.exitCode = 70;
  },
);
