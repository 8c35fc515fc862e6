import { z } from "zod";
import type { LabConfig } from "../config/model";
import { NETKVM_REBOOT_MESSAGE } from "../plan/offload/netkvmInstall";
import { netkvmRequest } from "../plan/offload/request";
import { USO_DRIVER_FIELDS } from "../plan/offload/windowsGuest";
import { mismatchFailure, stepJson, type OffloadMismatch, type OffloadStepResult } from "./offloadStep";

const wmiValues = z.record(z.string(), z.unknown()).nullable();

const propertyOutput = z.object({
  keyword: z.string(),
  requested: z.string(),
  registryValue: z.string().nullable(),
  displayValue: z.string().nullable(),
});

/** The driver's own USO flag (NetKvm_Config.UsoEnabledv4/v6); `unverified` before tag mm320. */
const usoDriverState = z.enum(["on", "off", "unverified"]);

const netkvmOutput = z.object({
  adapter: z.string(),
  interfaceDescription: z.string().nullable(),
  driverFileName: z.string().nullable(),
  driverVersion: z.string().nullable(),
  driverDate: z.string().nullable(),
  linkStatus: z.string(),
  /** `ready`, or what the matrix still lacked when the wait ended. */
  readiness: z.string(),
  restarted: z.boolean(),
  mtuSize: z.number().nullable(),
  ipMtu: z.number().nullable(),
  properties: z.array(propertyOutput),
  setErrors: z.array(z.string()),
  usoDriver: z.object({ ipv4: usoDriverState, ipv6: usoDriverState }),
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
  adapter: z.string().nullable(),
  driverVersion: z.string().nullable(),
  driverDate: z.string().nullable(),
});

/** What `netkvm-install` installed: the adapter's driver version afterwards. */
export type NetkvmInstallReadBack = z.output<typeof installOutput>;

export function parseNetkvmInstall(stdout: string): NetkvmInstallReadBack {
  return stepJson("netkvm-install", stdout, installOutput);
}

/** The install's read-back and its failure: installed, but Windows must restart first. */
export function netkvmInstallResult(stdout: string): { readBack: NetkvmInstallReadBack; error: string | null } {
  const readBack = parseNetkvmInstall(stdout);
  return { readBack, error: readBack.rebootRequired ? NETKVM_REBOOT_MESSAGE : null };
}

/**
 * The Windows read-back checked against the profile. The script picked `*JumboPacket` or
 * the old `MTU` keyword by what the driver has; whichever it reports is checked against the
 * value for that keyword. Beyond the registry: the driver's own USO flags where it reports
 * them (a registry that says Enabled while NetKVM cleared USO fails here), the adapter's and
 * IP's MTU (the device sets it, not `*JumboPacket`), and that the guest was ready to send.
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
  if (out.readiness !== "ready") mismatches.push({ where, setting: "readiness", requested: "ready", actual: out.readiness });
  for (const u of USO_DRIVER_FIELDS) {
    const asked = req.settings.find((s) => s.keyword === u.keyword);
    const driver = out.usoDriver[u.family];
    if (asked === undefined || driver === "unverified") continue;
    const state = asked.value === "1" ? "on" : "off";
    if (driver === state) continue;
    const reg = out.properties.find((p) => p.keyword === u.keyword);
    const registry = reg === undefined || reg.registryValue === null ? "absent" : `${reg.registryValue} (${reg.displayValue ?? ""})`;
    mismatches.push({ where, setting: `NetKvm_Config.${u.field}`, requested: state, actual: `${driver} while the registry says ${registry}` });
  }
  const mtu = String(req.mtu);
  if (String(out.mtuSize) !== mtu) mismatches.push({ where, setting: "MtuSize", requested: mtu, actual: out.mtuSize === null ? "absent" : String(out.mtuSize) });
  if (String(out.ipMtu) !== mtu) mismatches.push({ where, setting: "NlMtu", requested: mtu, actual: out.ipMtu === null ? "absent" : String(out.ipMtu) });
  return { readBack: { os: "windows", ...out }, mismatches, error: mismatchFailure(mismatches) };
}
