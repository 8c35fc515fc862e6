import type { LabConfig } from "../../config/model";
import type { Step } from "../step";
import { diskStep } from "./diskStep";
import { domainStep } from "./domainStep";
import { networkStep } from "./networkStep";

/** Network, guest disk and guest domain, in dependency order. */
export function libvirtSteps(cfg: LabConfig): Step[] {
  return [networkStep(cfg), diskStep(cfg), domainStep(cfg)];
}

export { networkStep, NETWORK_STEP } from "./networkStep";
export { diskStep, DISK_STEP } from "./diskStep";
export { domainStep, DOMAIN_STEP } from "./domainStep";
export { dedicatedNetworkXml } from "./networkXml";
export { domainXml } from "./domainXml";
