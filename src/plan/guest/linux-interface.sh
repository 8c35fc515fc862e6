# shellcheck shell=sh
# shellcheck disable=SC2034 # OL_DEV and OL_DEV_WANTED are for the script that includes this
# The guest's lab interface, for every Linux guest script of the lab: sets OL_DEV to
# $OL_LINUX_INTERFACE (guest.linuxInterface) when it is set, or else to the device with the
# domain's MAC $OL_MAC; OL_DEV is empty when absent and OL_DEV_WANTED says what was looked
# for. Only devices with a `device` link count, so a bridge or VLAN that copied the MAC is
# not picked.
OL_DEV=
if [ -n "$OL_LINUX_INTERFACE" ]; then
  OL_DEV_WANTED="no interface $OL_LINUX_INTERFACE in the guest (guest.linuxInterface)"
  [ -e "/sys/class/net/$OL_LINUX_INTERFACE" ] && OL_DEV=$OL_LINUX_INTERFACE
else
  OL_DEV_WANTED="no interface with MAC $OL_MAC in the guest (set guest.linuxInterface to name it)"
  for ol_d in /sys/class/net/*; do
    [ -e "$ol_d/device" ] || continue
    if [ "$(cat "$ol_d/address" 2>/dev/null)" = "$OL_MAC" ]; then OL_DEV=${ol_d##*/}; break; fi
  done
fi
