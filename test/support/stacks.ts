import * as path from "node:path";
import type { LabConfig } from "../../src/config/model";
import { listStacks, loadStack } from "../../src/config/stackFile";

export const PROJECT = path.join(__dirname, "..", "..");

/** Every stack file of the project, validated: what goldens and lint checks run over. */
export function everyStack(): LabConfig[] {
  return listStacks(PROJECT).map((s) => loadStack(PROJECT, s));
}
