#!/usr/bin/env bash
# offload-lab guest-disk: src/plan/guest-disk/delete.sh, after the stack's values
set -euo pipefail
OVERLAY=/var/lib/libvirt/images/sandbox-lab-overlay.qcow2
# What every host script may call. Config values are bound above this by the generated
# preamble; tool output goes to files under $WORK (under pipefail a reader that stops early,
# like head or grep -q, could fail a pipeline through the writer's SIGPIPE).
export LC_ALL=C
# shellcheck disable=SC2317 # shared by every host step: a step that never calls it leaves it unreachable
fail() { printf 'offload-lab: %s\n' "$*" >&2; exit 1; }
# shellcheck disable=SC2317 # likewise
note() { printf 'offload-lab: %s\n' "$*" >&2; }
WORK=$(mktemp -d)
trap 'rm -rf -- "$WORK"' EXIT
# Removes the linked clone only; the base image is never written.
: "${OVERLAY:?}"
rm -f -- "$OVERLAY" "$OVERLAY.partial"
note "removed linked clone $OVERLAY (the base image is untouched)"
