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

/**
 * Sets `$adapter` (`$null` when absent) and `$adapterWanted`, what was looked for. `indent`
 * goes before each line of this template, never into a value: a value with a newline in it
 * (the schema refuses one, but a script must stay right without the schema) stays as given.
 */
export function windowsAdapterLookupPs(cfg: LabConfig, indent = ""): string {
  return windowsAdapterLookupLines(cfg).join(`\n${indent}`).replace(/^/, indent);
}

function windowsAdapterLookupLines(cfg: LabConfig): string[] {
  const name = cfg.guest.adapterName;
  // -ErrorAction SilentlyContinue: while an adapter restarts it can be briefly absent, and a
  // lookup that finds nothing must leave $null, not end the script.
  if (name !== undefined) {
    return [
      `$adapterName = ${ps(name)}`,
      `$adapterWanted = "no network adapter named '$adapterName' in the guest (guest.adapterName)"`,
      "$adapter = @(Get-NetAdapter -ErrorAction SilentlyContinue | Where-Object { $_.Name -eq $adapterName })[0]",
    ];
  }
  // Get-NetAdapter prints MACs upper case with '-'.
  const mac = cfg.guest.mac.toUpperCase().replace(/:/g, "-");
  return [
    `$adapterMac = ${ps(mac)}`,
    '$adapterWanted = "no network adapter with MAC $adapterMac in the guest (set guest.adapterName to name it)"',
    "$adapter = @(Get-NetAdapter -Physical -ErrorAction SilentlyContinue | Where-Object { $_.MacAddress -eq $adapterMac })[0]",
  ];
}

/** Reads every advanced property of `$adapter`, hidden ones included, keyed by keyword. */
export const ADVANCED_PROPERTIES_PS = `function Get-AdvancedProperties {
  $byKeyword = @{}
  Get-NetAdapterAdvancedProperty -Name '*' -AllProperties | Where-Object { $_.Name -eq $adapter.Name } | ForEach-Object { $byKeyword[$_.RegistryKeyword] = $_ }
  $byKeyword
}`;
