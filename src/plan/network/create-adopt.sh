#!/usr/bin/env bash
# Takes over an existing network (libvirt's `default`): sets its MTU and, the first time,
# saves its original definition in its <metadata> for delete to restore.
dump_definition \
  || fail "network $NET to adopt is not defined at $URI ($(tr '\n' ' ' <"$WORK/err")); define it or use network.mode dedicated"
[ "$(xmlstarlet sel -t -v 'count(/network)' "$WORK/current.xml")" = 1 ] || fail "unexpected XML from net-dumpxml $NET"
before=$(cat "$WORK/current.xml")
edits=(-d /network/mtu -s /network -t elem -n mtu -i /network/mtu -t attr -n size -v "$MTU")
if [ -z "$(saved_field "text()")" ]; then
  [ "$(xmlstarlet sel -t -v 'count(/network/metadata)' "$WORK/current.xml")" != 0 ] || edits+=(-s /network -t elem -n metadata)
  # xmlstarlet ed gives a new element no namespace: the xmlns:offloadlab attribute it is given
  # is written out as the declaration that binds its prefix when libvirt reads the file.
  edits+=(-s /network/metadata -t elem -n offloadlab:original -v "$(base64 -w0 "$WORK/current.xml")"
    -i '/network/metadata/*[last()]' -t attr -n xmlns:offloadlab -v "$saved_ns"
    -i '/network/metadata/*[last()]' -t attr -n active -v "$(net_active)")
  note "saved the original definition of network $NET (restored on delete)"
fi
xmlstarlet ed "${edits[@]}" "$WORK/current.xml" >"$WORK/network.xml"
virsh -c "$URI" net-define --file "$WORK/network.xml" >&2
after=$(virsh -c "$URI" net-dumpxml --inactive --network "$NET")
start_and_read_back "$before" "$after"
