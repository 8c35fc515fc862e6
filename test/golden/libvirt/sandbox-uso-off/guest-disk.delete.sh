set -euo pipefail
export LC_ALL=C
fail() { printf 'offload-lab: %s\n' "$*" >&2; exit 1; }
note() { printf 'offload-lab: %s\n' "$*" >&2; }
# A JSON string literal for $1; config values never carry control characters, tool output might.
json_str() {
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\t'/\\t}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//[$'\001'-$'\037']/?}
  printf '"%s"' "$s"
}
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
BASE=/var/lib/offload-lab/images/debian-guest.qcow2
FORMAT=qcow2
OVERLAY=/var/lib/libvirt/images/sandbox-lab-overlay.qcow2
rm -f -- "$OVERLAY" "$OVERLAY.partial"
note "removed linked clone $OVERLAY (the base image is untouched)"
