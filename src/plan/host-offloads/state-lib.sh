# shellcheck shell=bash
# Where host-offloads keeps, per device, what it needs to give the device back:
#   ethtool-k.DEV  the device's `ethtool -k` from before the lab first changed it;
#   touched.DEV    every feature any create changed since, as "feature printed-name" lines;
#   owner.DEV      the request of the create that last ran on it. Pulumi replaces a command by
#                  creating the new one before deleting the old one: the old delete sees a newer
#                  owner and leaves the device to it, so a trigger change does not undo the new
#                  settings.
: "${STATE_DIR:?}"
state_file() { printf '%s/%s.%s' "$STATE_DIR" "$1" "$2"; }
