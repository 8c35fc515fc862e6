#!/usr/bin/env bash
# The test command: all set-up, then every test; ends with "tests: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
bash scripts/setup.sh || exit 1
report=$(mktemp)
# The pinned Pulumi CLI for the engine tests (built once from the Go module proxy, then cached).
cli=$(bash scripts/pulumi-cli.sh) || exit 1
# Go programs the tests run, built the same way (pinned in tools/NAME, cached): actionlint for
# the example CI workflow, gofakes3 for the S3-compatible state backend.
lint=$(bash scripts/go-tool.sh actionlint) || exit 1
s3=$(bash scripts/go-tool.sh gofakes3) || exit 1
export PATH="$lint:$s3:$cli:$PATH"
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
status=$?
# shellcheck disable=SC2016 # JavaScript template literals, not shell expansions
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$report" || echo "tests: 0 passed, 1 failed"
rm -f "$report"
exit $status
