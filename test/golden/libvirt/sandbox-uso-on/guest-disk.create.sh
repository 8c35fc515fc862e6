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
BACKING_JSON='"/var/lib/offload-lab/images/debian-guest.qcow2"'
[ -f "$BASE" ] || fail "base image $BASE is not a file on the KVM host"
mkdir -p -- "$(dirname -- "$OVERLAY")"
if [ -e "$OVERLAY" ]; then
  qemu-img info -U --output=json "$OVERLAY" > "$work/info.json"
  if ! grep -qF -- "\"backing-filename\": $BACKING_JSON" "$work/info.json" \
    || ! grep -qF -- "\"backing-filename-format\": \"$FORMAT\"" "$work/info.json"; then
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
size=$(sed -n 's/^ *"virtual-size": \([0-9]*\),\{0,1\}$/\1/p' "$work/info.json" | sed -n 1p)
[ -n "$size" ] || fail "qemu-img info printed no virtual-size for $OVERLAY"
printf '{"overlay":%s,"base":%s,"baseFormat":%s,"virtualSizeBytes":%s,"created":%s}\n' \
  "$(json_str "$OVERLAY")" "$(json_str "$BASE")" "$(json_str "$FORMAT")" "$size" "$created"
