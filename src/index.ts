// The Pulumi program, loaded by the engine from package.json "main" as in Pulumi's TypeScript
// template (CommonJS, compiled on the fly by the engine's ts-node; no build step).
import { labStack } from "./lab/stackProgram";

const lab = labStack();

export const stack = lab.stack;
export const variant = lab.variant;
export const os = lab.os;
export const mtu = lab.mtu;
export const uso = lab.uso;
export const factors = lab.factors;
export const host = lab.host;
export const network = lab.network;
export const guest = lab.guest;
export const offloadReadback = lab.offloadReadback;
export const iperf3Server = lab.iperf3Server;
export const cells = lab.cells;
export const summary = lab.summary;
export const fingerprint = lab.fingerprint;
