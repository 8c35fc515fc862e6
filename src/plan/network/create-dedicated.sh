#!/usr/bin/env bash
# Defines the lab's own network from network.xml (built whole by xmlbuilder2) and starts it.
before=$(virsh -c "$URI" net-dumpxml --inactive --network "$NET" 2>/dev/null || true)
virsh -c "$URI" net-define --file "$WORK/network.xml" >&2
after=$(virsh -c "$URI" net-dumpxml --inactive --network "$NET")
start_and_read_back "$before" "$after"
