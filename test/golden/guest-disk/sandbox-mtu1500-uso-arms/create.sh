#!/usr/bin/env bash
# offload-lab guest-disk: src/plan/guest-disk/create.sh, after the stack's values
set -euo pipefail
BASE=/var/lib/offload-lab/images/debian-guest.qcow2
FORMAT=qcow2
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
# The guest's disk: a qcow2 linked clone of the base image, created once; a re-run keeps it.
# Prints one JSON document: overlay, base, its format, the virtual size, and whether it was new.
: "${BASE:?}" "${FORMAT:?}" "${OVERLAY:?}"
[ -f "$BASE" ] || fail "base image $BASE is not a file on the KVM host"
mkdir -p -- "$(dirname -- "$OVERLAY")"
if [ -e "$OVERLAY" ]; then
  qemu-img info -U --output=json "$OVERLAY" >"$WORK/info.json"
  if ! jq -e --arg base "$BASE" --arg format "$FORMAT" \
      '."backing-filename" == $base and ."backing-filename-format" == $format' "$WORK/info.json" >/dev/null; then
    fail "$OVERLAY exists but is not a linked clone of $BASE ($FORMAT): remove it or choose another guest.overlayDir"
  fi
  note "linked clone $OVERLAY already exists"
  created=false
else
  # Created under a temporary name first, so an interrupted run leaves no half-made overlay.
  qemu-img create -q -f qcow2 -F "$FORMAT" -b "$BASE" "$OVERLAY.partial"
  mv -f -- "$OVERLAY.partial" "$OVERLAY"
  note "created linked clone $OVERLAY of $BASE"
  created=true
  qemu-img info -U --output=json "$OVERLAY" >"$WORK/info.json"
fi
# The image's own virtual-size, at the top level: qemu-img 10 lists the backing chain's
# "children" (each with a virtual-size of its own) before it.
size=$(jq -e '."virtual-size" | numbers' "$WORK/info.json") \
  || fail "qemu-img info printed no virtual-size for $OVERLAY"
jq -cn --arg overlay "$OVERLAY" --arg base "$BASE" --arg format "$FORMAT" --argjson size "$size" --argjson created "$created" \
  '{overlay: $overlay, base: $base, baseFormat: $format, virtualSizeBytes: $size, created: $created}'
