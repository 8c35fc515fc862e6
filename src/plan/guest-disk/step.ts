import type { LabConfig } from "../../config/model";
import { scriptFile } from "../script/files";
import { hostScript } from "../script/hostScript";
import type { Step } from "../step";
import { parseDiskOutput, type DiskOutput } from "./output";

const CREATE = scriptFile(__dirname, "create.sh");
const DELETE = scriptFile(__dirname, "delete.sh");

/**
 * The guest's disk: a qcow2 overlay backed by the base image, so the base is only ever read
 * and creating the disk costs the same for any image size. Delete removes the overlay only.
 * (A base image that is the overlay path itself is refused by validation, src/config/validate.ts.)
 */
export function guestDiskStep(cfg: LabConfig, after: { hostReadiness: Step }): Step<DiskOutput> {
  const g = cfg.guest;
  return {
    name: "guest-disk",
    component: "LabGuest",
    runsOn: "host",
    create: hostScript({
      step: "guest-disk",
      file: CREATE,
      values: { BASE: g.baseImage, FORMAT: g.baseImageFormat, OVERLAY: g.overlayPath },
    }),
    delete: hostScript({ step: "guest-disk", file: DELETE, values: { OVERLAY: g.overlayPath } }),
    dependsOn: [after.hostReadiness],
    triggers: [g.baseImage, g.baseImageFormat, g.overlayPath],
    effect: {
      changes: `creates ${g.overlayPath}, a linked clone of ${g.baseImage} (the base image is only read)`,
      undo: `removes ${g.overlayPath}`,
    },
    parse: parseDiskOutput,
  };
}
