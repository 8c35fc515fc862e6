import type { LabConfig } from "../../config/model";
import type { Step } from "../step";
import { HOST_READINESS_STEP } from "../hostReadiness";
import { bash, hostScript } from "./hostScript";

export const DISK_STEP = "guest-disk";

const CREATE = bash`
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
`;

const DELETE = bash`
rm -f -- "$OVERLAY" "$OVERLAY.partial"
note "removed linked clone $OVERLAY (the base image is untouched)"
`;

/**
 * The guest's disk: a qcow2 overlay backed by the base image, so the base is only ever read
 * and creating the disk costs the same for any image size. Delete removes the overlay only.
 */
export function diskStep(cfg: LabConfig): Step {
  const g = cfg.guest;
  if (g.overlayPath === g.baseImage) {
    throw new Error(`guest.baseImage ${g.baseImage} is the overlay path itself; choose another guest.overlayDir`);
  }
  const vars = {
    BASE: g.baseImage,
    FORMAT: g.baseImageFormat,
    OVERLAY: g.overlayPath,
  };
  return {
    name: DISK_STEP,
    component: "LabGuest",
    runsOn: "host",
    language: "sh",
    create: hostScript(vars, CREATE),
    delete: hostScript(vars, DELETE),
    dependsOn: [HOST_READINESS_STEP],
    triggers: [g.baseImage, g.baseImageFormat, g.overlayPath],
  };
}
