import { z } from "zod";
import type { LabConfig } from "../config/model";
import { netkvmRequest } from "../plan/offload/request";
import { mismatchFailure, stepJson, type OffloadMismatch, type OffloadStepResult } from "./offloadStep";

const wmiValues = z.record(z.string(), z.unknown()).nullable();

const propertyOutput = z.object({
  keyword: z.string(),
  requested: z.string(),
  registryValue: z.string().nullable(),
  displayValue: z.string().nullable(),
});

const netkvmOutput = z.object({
  adapter: z.string(),
  interfaceDescription: z.string().nullable(),
  driverFileName: z.string().nullable(),
  driverVersion: z.string().nullable(),
  driverDate: z.string().nullable(),
  linkStatus: z.string(),
  restarted: z.boolean(),
  mtuSize: z.number().nullable(),
  ipMtu: z.number().nullable(),
  properties: z.array(propertyOutput),
  setErrors: z.array(z.string()),
  netkvmConfig: wmiValues,
  netkvmDiag: wmiValues,
});

export type NetkvmPropertyReadBack = z.output<typeof propertyOutput>;

/** What the Windows `guest-offloads` script read back from NetKVM. */
export interface NetkvmReadBack extends z.output<typeof netkvmOutput> {
  readonly os: "windows";
}

const installOutput = z.object({
  inf: z.string(),
  windows: z.string(),
  pnputilExitCode: z.number(),
  rebootRequired: z.boolean(),
  pnputilOutput: z.string(),
  adapter: z.string(),
  driverVersion: z.string().nullable(),
  driverDate: z.string().nullable(),
});

/** What `netkvm-install` installed: the adapter's driver version afterwards. */
export type NetkvmInstallReadBack = z.output<typeof installOutput>;

export function parseNetkvmInstall(stdout: string): NetkvmInstallReadBack {
  return stepJson("netkvm-install", stdout, installOutput);
}

/**
 * The Windows read-back checked against the profile. The script picked `*JumboPacket` or
 * the old `MTU` keyword by what the driver has; whichever it reports is checked against the
 * value for that keyword.
 */
export function netkvmResult(cfg: LabConfig, stdout: string): OffloadStepResult<NetkvmReadBack> {
  const out = stepJson("guest-offloads", stdout, netkvmOutput);
  const req = netkvmRequest(cfg.offloads);
  const mtuProperty = out.properties.find((p) => p.keyword === "MTU" || p.keyword === "*JumboPacket");
  const wanted = [
    ...req.settings,
    mtuProperty?.keyword === "MTU"
      ? { keyword: "MTU", value: String(req.mtu) }
      : { keyword: "*JumboPacket", value: String(req.jumboPacket) },
  ];
  const where = `guest ${out.adapter}`;
  const mismatches: OffloadMismatch[] = [];
  for (const w of wanted) {
    const got = out.properties.find((p) => p.keyword === w.keyword);
    if (got?.registryValue === w.value) continue;
    const actual = got === undefined || got.registryValue === null ? "absent" : `${got.registryValue} (${got.displayValue ?? ""})`;
    mismatches.push({ where, setting: w.keyword, requested: w.value, actual });
  }
  if (out.linkStatus !== "Up") mismatches.push({ where, setting: "link", requested: "Up", actual: out.linkStatus });
  return { readBack: { os: "windows", ...out }, mismatches, error: mismatchFailure(mismatches) };
}
