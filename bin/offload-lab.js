#!/usr/bin/env node
// The CLI runs the TypeScript sources directly, like the Pulumi engine does with src/index.ts,
// so `npm ci` alone makes `npx offload-lab` work with no build step.
"use strict";
require("tsx/cjs");
require("../src/cli/main.ts").main(process.argv).then(
  (code) => { process.exitCode = code; },
  // main() turns every error into a message and an exit code; this is only the last resort.
  (err) => {
    const debug = process.argv.includes("--debug");
    console.error(`offload-lab: unexpected error: ${err instanceof Error ? err.message : err}`);
    console.error(debug && err instanceof Error ? err.stack : "Run the same command with --debug for the stack trace.");
    process.exitCode = 70;
  },
);
