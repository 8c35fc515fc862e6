# shellcheck shell=bash
# Adopt mode keeps the network's original definition inside the network itself, as base64 in
# a <metadata> element with the network's active state: delete restores it from there, so no
# state file on the host can go stale or be lost.
saved_ns=urn:offload-lab:adopted-network
# Reads the network's definition into $WORK/current.xml; fails when libvirt does not know it.
dump_definition() {
  virsh -c "$URI" net-dumpxml --inactive --network "$NET" >"$WORK/current.xml" 2>"$WORK/err"
}
# What the saved element holds: `saved_field "text()"` is the base64 definition, `saved_field @active` yes or no.
saved_field() {
  xmlstarlet sel -N offloadlab="$saved_ns" -t -v "/network/metadata/offloadlab:original/$1" "$WORK/current.xml" || true
}
