#!/usr/bin/env bash
# Removes the linked clone only; the base image is never written.
: "${OVERLAY:?}"
rm -f -- "$OVERLAY" "$OVERLAY.partial"
note "removed linked clone $OVERLAY (the base image is untouched)"
