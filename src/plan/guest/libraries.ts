import type { LabConfig } from "../../config/model";
import { scriptFile } from "../script/files";

// The scripts every guest step of the lab shares, and the values they read.

/** Sets OL_DEV to the guest's lab interface; reads OL_LINUX_INTERFACE and OL_MAC. */
export const LINUX_INTERFACE = scriptFile(__dirname, "linux-interface.sh");
/** Find-LabAdapter, Get-LabAdapterWanted, Get-AdvancedProperties, Get-Readiness. */
export const WINDOWS_ADAPTER = scriptFile(__dirname, "windows-adapter.ps1");
/** Get-NetKvmWmi, Get-UdpOffloadCount. */
export const NETKVM_WMI = scriptFile(__dirname, "netkvm-wmi.ps1");

/** What linux-interface.sh looks for: `guest.linuxInterface` (empty when unset), else the MAC. */
export function linuxInterfaceValues(cfg: LabConfig): { OL_LINUX_INTERFACE: string; OL_MAC: string } {
  return { OL_LINUX_INTERFACE: cfg.guest.linuxInterface ?? "", OL_MAC: cfg.guest.mac };
}

/**
 * What Find-LabAdapter looks for: `guest.adapterName` (empty when unset), else the MAC as
 * Get-NetAdapter prints it, upper case with '-'.
 */
export function windowsAdapterParameters(cfg: LabConfig): { AdapterName: string; AdapterMac: string } {
  return { AdapterName: cfg.guest.adapterName ?? "", AdapterMac: cfg.guest.mac.toUpperCase().replace(/:/g, "-") };
}
