#!/usr/bin/env bash
# offload-lab host-firewall: src/plan/host-firewall/delete.sh, after the stack's values
set -euo pipefail
BRIDGE=olbr0
PORTS=(12345/tcp 12345/udp)
STATE=/run/offload-lab/firewall-12345.added
# What every host script may call. Config values are bound above this by the generated
# preamble; tool output goes to files under $WORK (under pipefail a reader that stops early,
# like head or grep -q, could fail a pipeline through the writer's SIGPIPE).
export LC_ALL=C
# shellcheck disable=SC2317 # shared by every host step: a step that never calls it leaves it unreachable
fail() { printf 'offload-lab: %s\n' "$*" >&2; exit 1; }
# shellcheck disable=SC2317 # likewise
note() { printf 'offload-lab: %s\n' "$*" >&2; }
WORK=$(mktemp -d)
trap 'rm -rf -- "$WORK"' EXIT
# firewalld as the lab's guest meets it: the zone of the lab's bridge, and whether that zone lets
# the guest reach the lab's ports on the host. Shared by host-readiness (reports it),
# host-firewall (opens the ports for the lab's lifetime) and the benchmark (explains a cell
# that could not connect). Runtime configuration only: the lab never writes firewalld's
# permanent configuration. PORTS lists "port/proto" entries (12345/tcp 12345/udp).
: "${BRIDGE:?}" "${PORTS[@]:?}"

# firewalld is installed and running (firewall-cmd --state prints "running", else "not running").
fw_running() {
  command -v firewall-cmd >/dev/null 2>&1 || return 1
  [ "$(firewall-cmd --state 2>/dev/null || true)" = running ]
}

# The zone the bridge is in; a bridge in no zone is in firewalld's default zone. A bridge that
# does not exist yet (host-readiness, before the network step) gets the zone libvirt will put it
# in: `libvirt`, where that zone exists (libvirt's network driver assigns it to its bridges).
fw_zone() {
  local zone=""
  zone=$(firewall-cmd --get-zone-of-interface="$BRIDGE" 2>/dev/null) || zone=""
  if [ -z "$zone" ] && [ ! -e "/sys/class/net/$BRIDGE" ] && firewall-cmd --get-zones 2>/dev/null | tr ' ' '\n' | grep -qx libvirt; then
    zone=libvirt
  fi
  [ -n "$zone" ] || zone=$(firewall-cmd --get-default-zone)
  printf '%s\n' "$zone"
}

# fw_open ZONE PORT/PROTO: the zone accepts it from its interfaces: the port is listed, or a
# listed service has it, or the zone's target accepts everything and no rich rule rejects or
# drops (libvirt's zone has target ACCEPT for forwarding and a last rich rule that rejects
# what reaches the host). Other rich rules and policies are not read.
fw_open() {
  local zone=$1 entry=$2 service services=()
  firewall-cmd --zone="$zone" --query-port="$entry" >/dev/null 2>&1 && return 0
  firewall-cmd --zone="$zone" --list-services >"$WORK/fw-services" 2>/dev/null || true
  read -r -a services <"$WORK/fw-services" || true
  for service in "${services[@]}"; do
    firewall-cmd --info-service="$service" >"$WORK/fw-service" 2>/dev/null || continue
    sed -n 's/^[[:space:]]*ports:[[:space:]]*//p' "$WORK/fw-service" | tr ' ' '\n' | grep -qxF -- "$entry" && return 0
  done
  firewall-cmd --info-zone="$zone" >"$WORK/fw-zone" 2>/dev/null || return 1
  if grep -Eq '^[[:space:]]*target:[[:space:]]*ACCEPT$' "$WORK/fw-zone" \
    && ! grep -Eq 'rule.*[[:space:]](reject|drop)([[:space:]]|$)' "$WORK/fw-zone"; then
    return 0
  fi
  return 1
}

# fw_closed ZONE: the entries of PORTS the zone does not accept, space-separated.
fw_closed() {
  local zone=$1 entry closed=()
  for entry in "${PORTS[@]}"; do
    fw_open "$zone" "$entry" || closed+=("$entry")
  done
  printf '%s\n' "${closed[*]}"
}

# The input chains of nftables (iptables-nft's too) that drop or reject, or drop by policy, as
# "family table chain" lines: a host without firewalld may still turn the guest away. Whether
# a rule matches the lab's ports is not decided: they are named, for the user to read.
nft_rejecting_chains() {
  command -v nft >/dev/null 2>&1 || return 0
  nft -j list ruleset >"$WORK/nft.json" 2>/dev/null || return 0
  jq -r '
    [.nftables[] | select(.chain? and .chain.hook? == "input") | .chain] as $input
    | ([.nftables[] | select(.rule?) | .rule
        | select(any(.expr[]?; has("reject") or has("drop")))
        | {family, table, chain}]) as $rejecting
    | $input[]
    | select(.policy == "drop" or ({family, table, chain: .name} as $c | $rejecting | index($c) != null))
    | "\(.family) \(.table) \(.name)"' "$WORK/nft.json" 2>/dev/null || true
}
# Removes exactly the runtime ports create recorded in STATE, each from the zone it was added
# to, then STATE itself. A port already gone (firewalld reloaded or restarted meanwhile) is
# said, not fatal, so the stack can still be destroyed.
: "${STATE:?}"
if [ ! -s "$STATE" ]; then
  rm -f "$STATE"
  exit 0
fi
if ! fw_running; then
  note "firewalld is not running: the ports recorded in $STATE went with its runtime configuration"
  rm -f "$STATE"
  exit 0
fi
while read -r entry zone; do
  [ -n "$entry" ] || continue
  if firewall-cmd --zone="$zone" --remove-port="$entry" >"$WORK/fw-remove" 2>&1; then
    note "closed $entry in firewalld zone $zone again"
  else
    note "could not remove $entry from firewalld zone $zone: $(tr '\n' ' ' <"$WORK/fw-remove")"
  fi
done <"$STATE"
rm -f "$STATE"
