import type { LabConfig } from "../../config/model";
import { sh } from "../quote";

/**
 * POSIX sh that sets `OL_DEV` to the guest's lab interface: `guest.linuxInterface`, or else
 * the device with the domain's MAC. Only devices with a `device` link count, so a bridge or
 * VLAN that copied the MAC is not picked. Exits 2 naming what it looked for.
 */
export function linuxInterfaceSh(cfg: LabConfig, step: string): string {
  return `${linuxInterfaceLookupSh(cfg)}\n[ -n "$OL_DEV" ] || { echo "${step}: $OL_DEV_WANTED" >&2; exit 2; }`;
}

/** Sets `OL_DEV` (empty when absent) and `OL_DEV_WANTED`, what was looked for. */
export function linuxInterfaceLookupSh(cfg: LabConfig): string {
  const name = cfg.guest.linuxInterface;
  if (name !== undefined) {
    return [
      `OL_DEV=${sh(name)}`,
      'OL_DEV_WANTED="no interface $OL_DEV in the guest (guest.linuxInterface)"',
      '[ -e "/sys/class/net/$OL_DEV" ] || OL_DEV=',
    ].join("\n");
  }
  return [
    `OL_MAC=${sh(cfg.guest.mac)}`,
    'OL_DEV_WANTED="no interface with MAC $OL_MAC in the guest (set guest.linuxInterface to name it)"',
    "OL_DEV=",
    "for ol_d in /sys/class/net/*; do",
    '  [ -e "$ol_d/device" ] || continue',
    '  if [ "$(cat "$ol_d/address" 2>/dev/null)" = "$OL_MAC" ]; then OL_DEV=${ol_d##*/}; break; fi',
    "done",
  ].join("\n");
}
