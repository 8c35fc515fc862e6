#!/usr/bin/env bash
# The main job: all set-up, then, with no arguments, the lab for real on a sandbox KVM host:
# bring up the sandbox (a network namespace with its own libvirtd and sshd, as root), sweep the
# in-lab arms stacks through the Pulumi engine: each stack is brought up once and both USO arms
# are measured inside it, pair after pair (off, on), in rounds, until every verdict row's 95 %
# interval meets the precision target or the budget is spent (sweep --budget); then destroy,
# write out/report/{report.md,results.csv,report.html}, print the verdict table, remove the sandbox.
# It prints one line per phase and per round (the rows still open, what each asks, the time
# left), a live line on a terminal, and keeps the engine's whole output in out/report/engine.log;
# a run killed at any moment leaves the repository as it was, and the next run resumes.
#
# Overrides (README "The main job"), as variables or as the first arguments:
#   OFFLOAD_LAB_STACKS       --stacks       default sandbox-mtu1500-uso-arms,sandbox-mtu9000-uso-arms
#   OFFLOAD_LAB_PRECISION    --precision    default 10%
#   OFFLOAD_LAB_BUDGET       --budget       default 15m (lab time; the whole job stays within 20 min warm)
#   OFFLOAD_LAB_MAX_SAMPLES  --max-samples  default 30
# Any other arguments run `offload-lab ARGS...` (e.g. `render --stack linux-uso-on --out out/x`).
set -euo pipefail
cd "$(dirname "$0")/.."
# OFFLOAD_LAB_SETUP=0: set-up already done by the caller (the test suite, which runs this job
# while its own node_modules are in use: setup's `npm ci` would replace them under it).
[ "${OFFLOAD_LAB_SETUP:-1}" = 0 ] || bash scripts/setup.sh >&2
PATH="$(bash scripts/pulumi-cli.sh):$PATH"
export PATH
stacks=${OFFLOAD_LAB_STACKS:-sandbox-mtu1500-uso-arms,sandbox-mtu9000-uso-arms}
precision=${OFFLOAD_LAB_PRECISION:-10%}
budget=${OFFLOAD_LAB_BUDGET:-15m}
max_samples=${OFFLOAD_LAB_MAX_SAMPLES:-30}
case "${1:-}" in
  --stacks | --precision | --budget | --max-samples)
    while [ $# -gt 0 ]; do
      [ $# -ge 2 ] || { echo "main.sh: $1 needs a value" >&2; exit 2; }
      case "$1" in
        --stacks) stacks=$2 ;;
        --precision) precision=$2 ;;
        --budget) budget=$2 ;;
        --max-samples) max_samples=$2 ;;
        *) echo "main.sh: $1: the main job takes --stacks, --precision, --budget and --max-samples" >&2; exit 2 ;;
      esac
      shift 2
    done
    ;;
  "") ;;
  *) exec npx --no-install offload-lab "$@" ;;
esac

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
start=$(date +%s)
npx --no-install offload-lab sweep --sandbox --stacks "$stacks" \
  --precision "$precision" --budget "$budget" --max-samples "$max_samples" --out "$out" || status=$?
if [ -f "$out/report.md" ] && [ "$status" -ne 3 ]; then
  bash scripts/verdict-table.sh "$out/report.md"
  echo "report: $out/report.md, $out/results.csv, $out/report.html"
fi
echo "main job: sweep took $(( ($(date +%s) - start) / 60 ))m $(( ($(date +%s) - start) % 60 ))s (exit $status)"
exit "$status"
