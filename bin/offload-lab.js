#!/usr/bin/env node
// The CLI runs the TypeScript sources directly, like the Pulumi engine does with src/index.ts,
// so `npm ci` alone makes `npx offload-lab` work with no build step.
"use strict";
require("tsx/cjs");
require("../src/cli/main.ts").main(process.argv).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err instanceof Error ? err.stack : err); process.exitCode = 1; },
);
