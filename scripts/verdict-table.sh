#!/usr/bin/env bash
# Prints the verdict table of a report.md: its "USO on vs off" section, up to the next section.
set -euo pipefail
awk '/^## USO on vs off/ { on = 1; print; next } on && /^## / { exit } on' "$1"
