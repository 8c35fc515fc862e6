import type { LabConfig } from "../../config/model";
import { ps } from "../quote";

/**
 * PowerShell that sets `$adapter` to the lab's NetKVM adapter: by `guest.adapterName`, or
 * else by the domain's MAC. Compared with -eq on the property, never passed to -Name, so
 * wildcard characters in a name mean nothing. Exits 2 naming what it looked for.
 */
export function windowsAdapterPs(cfg: LabConfig, step: string): string {
  return `${windowsAdapterLookupPs(cfg)}\nif ($null -eq $adapter) { [Console]::Error.WriteLine("${step}: $adapterWanted"); exit 2 }`;
}

/** Sets `$adapter` (`$null` when absent) and `$adapterWanted`, what was looked for. */
export function windowsAdapterLookupPs(cfg: LabConfig): string {
  const name = cfg.guest.adapterName;
  if (name !== undefined) {
    return [
      `$adapterName = ${ps(name)}`,
      `$adapterWanted = "no network adapter named '$adapterName' in the guest (guest.adapterName)"`,
      "$adapter = @(Get-NetAdapter | Where-Object { $_.Name -eq $adapterName })[0]",
    ].join("\n");
  }
  // Get-NetAdapter prints MACs upper case with '-'.
  const mac = cfg.guest.mac.toUpperCase().replace(/:/g, "-");
  return [
    `$adapterMac = ${ps(mac)}`,
    '$adapterWanted = "no network adapter with MAC $adapterMac in the guest (set guest.adapterName to name it)"',
    "$adapter = @(Get-NetAdapter -Physical | Where-Object { $_.MacAddress -eq $adapterMac })[0]",
  ].join("\n");
}

/** Reads every advanced property of `$adapter`, hidden ones included, keyed by keyword. */
export const ADVANCED_PROPERTIES_PS = `function Get-AdvancedProperties {
  $byKeyword = @{}
  Get-NetAdapterAdvancedProperty -Name '*' -AllProperties | Where-Object { $_.Name -eq $adapter.Name } | ForEach-Object { $byKeyword[$_.RegistryKeyword] = $_ }
  $byKeyword
}`;
