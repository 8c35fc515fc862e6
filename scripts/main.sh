#!/usr/bin/env bash
# The main job: all set-up, then, with no arguments, the lab for real on a sandbox KVM host:
# bring up the sandbox (a network namespace with its own libvirtd and sshd, as root), sweep the
# sandbox stacks through the Pulumi engine (up, outputs, destroy each), write
# out/report/{report.md,results.csv,report.html}, print the verdict table, remove the sandbox.
# With arguments it runs `offload-lab ARGS...` (e.g. `render --stack linux-uso-on --out out/x`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >&2
PATH="$(bash scripts/pulumi-cli.sh):$PATH"
export PATH
if [ $# -gt 0 ]; then
  exec npx --no-install offload-lab "$@"
fi

# Stack secrets need a passphrase (no Pulumi Cloud); without one, a random one of this checkout's own.
if [ -z "${PULUMI_CONFIG_PASSPHRASE+x}${PULUMI_CONFIG_PASSPHRASE_FILE+x}" ]; then
  mkdir -p .offload-lab
  [ -s .offload-lab/passphrase ] || (umask 077 && head -c 32 /dev/urandom | base64 > .offload-lab/passphrase)
  export PULUMI_CONFIG_PASSPHRASE_FILE="$PWD/.offload-lab/passphrase"
fi

out=out/report
# A finished sweep is measured afresh; an interrupted one resumes where it stopped.
if [ -f "$out/.sweep-state.json" ] && jq -e 'all(.runs[]; .phase == "done")' "$out/.sweep-state.json" >/dev/null; then
  rm -rf "$out"
fi
status=0
npx --no-install offload-lab sweep --sandbox --stacks sandbox-uso-off,sandbox-uso-on --samples 2 --out "$out" || status=$?
if [ -f "$out/report.md" ]; then
  bash scripts/verdict-table.sh "$out/report.md"
  echo "report: $out/report.md, $out/results.csv, $out/report.html"
fi
exit "$status"
