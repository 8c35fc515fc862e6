// The Pulumi program, loaded by the engine from package.json "main" as in Pulumi's TypeScript
// template (CommonJS, compiled on the fly by the engine's ts-node; no build step).
import * as pulumi from "@pulumi/pulumi";
import { validateLab } from "./config/validate";
import { buildLab } from "./lab/lab";
import { settingsFromPulumi } from "./lab/settings";

// Validation throws before any resource is registered: bad input never reaches a host.
const cfg = validateLab(pulumi.getStack(), settingsFromPulumi());
const lab = buildLab(cfg);

export const stack = cfg.stack;
export const variant = cfg.variant;
export const os = cfg.guest.os;
export const mtu = cfg.network.mtu;
export const uso = cfg.offloads.uso.ipv4 ?? null;
export const host = lab.host;
export const network = lab.network;
export const guest = lab.guest;
export const offloadReadback = lab.offloadReadback;
export const iperf3Server = lab.iperf3Server;
export const cells = lab.cells;
export const summary = lab.summary;
export const fingerprint = lab.fingerprint;
