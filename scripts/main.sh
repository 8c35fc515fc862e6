#!/usr/bin/env bash
# The main job: all set-up, then, with no arguments, the lab for real on a sandbox KVM host:
# bring up the sandbox (a network namespace with its own libvirtd and sshd, as root), sweep the
# sandbox stacks through the Pulumi engine (up, outputs, destroy each), write
# out/report/{report.md,results.csv,report.html}, print the verdict table, remove the sandbox.
# It prints one line per phase of each stack (its time, and the time left), a live line on a
# terminal, and keeps the engine's whole output in out/report/engine.log; a run killed at any
# moment leaves the repository as it was, and the next run removes what it left and resumes.
# With arguments it runs `offload-lab ARGS...` (e.g. `render --stack linux-uso-on --out out/x`).
set -euo pipefail
cd "$(dirname "$0")/.."
# OFFLOAD_LAB_SETUP=0: set-up already done by the caller (the test suite, which runs this job
# while its own node_modules are in use: setup's `npm ci` would replace them under it).
[ "${OFFLOAD_LAB_SETUP:-1}" = 0 ] || bash scripts/setup.sh >&2
PATH="$(bash scripts/pulumi-cli.sh):$PATH"
export PATH
if [ $# -gt 0 ]; then
  exec npx --no-install offload-lab "$@"
fi

# Stack secrets need a passphrase (no Pulumi Cloud). Without one given, this checkout's own,
# random, in the file every entry looks in after the variables (src/engine/passphrase.ts).
if [ -z "${PULUMI_CONFIG_PASSPHRASE+x}${PULUMI_CONFIG_PASSPHRASE_FILE+x}" ] && [ ! -s .offload-lab/passphrase ]; then
  mkdir -p .offload-lab
  (umask 077 && head -c 32 /dev/urandom | base64 > .offload-lab/passphrase)
fi

out=out/report
# A finished sweep is measured afresh; an interrupted one resumes where it stopped.
if [ -f "$out/.sweep-state.json" ] && jq -e 'all(.runs[]; .phase == "done")' "$out/.sweep-state.json" >/dev/null; then
  rm -rf "$out"
fi
status=0
npx --no-install offload-lab sweep --sandbox --stacks sandbox-uso-off,sandbox-uso-on --samples 2 --out "$out" || status=$?
if [ -f "$out/report.md" ] && [ "$status" -ne 3 ]; then
  bash scripts/verdict-table.sh "$out/report.md"
  echo "report: $out/report.md, $out/results.csv, $out/report.html"
fi
exit "$status"
