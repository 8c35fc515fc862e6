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
[ -f "$BASE" ] || fail "base image $BASE is not a file on the KVM host"
mkdir -p -- "$(dirname -- "$OVERLAY")"
if [ -e "$OVERLAY" ]; then
  qemu-img info -U --output=json "$OVERLAY" > "$work/info.json"
  if ! jq -e --arg base "$BASE" --arg format "$FORMAT" \
      '."backing-filename" == $base and ."backing-filename-format" == $format' "$work/info.json" >/dev/null; then
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
  qemu-img info -U --output=json "$OVERLAY" > "$work/info.json"
fi
# The image's own virtual-size, at the top level: qemu-img 10 lists the backing chain's
# "children" (each with a virtual-size of its own) before it.
size=$(jq -e '."virtual-size" | numbers' "$work/info.json") \
  || fail "qemu-img info printed no virtual-size for $OVERLAY"
jq -cn --arg overlay "$OVERLAY" --arg base "$BASE" --arg format "$FORMAT" --argjson size "$size" --argjson created "$created" \
  '{overlay: $overlay, base: $base, baseFormat: $format, virtualSizeBytes: $size, created: $created}'
