#!/usr/bin/env bash
# offload-lab host-readiness: src/plan/host-readiness/create.sh, after the stack's values
set -euo pipefail
URI=qemu:///system
DOMAIN_TYPE=kvm
TOOLS=(virsh qemu-img ip ethtool jq xmlstarlet iperf3 tcpdump)
PACKAGES=("libvirt-clients (Debian) / libvirt-client (RHEL)" "qemu-utils (Debian) / qemu-img (RHEL)" iproute2 ethtool jq xmlstarlet iperf3 tcpdump)
USO_WANTED="guest.virtioNetFeatures host_uso, guest_uso4, guest_uso6"
USO_PROPERTIES=1
MIN_QEMU=8.2
MIN_LIBVIRT=8.2
BRIDGE=virbr0
PORTS=(12345/tcp 12345/udp)
FIREWALL=open
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
# Fails early, with one message naming everything to install, when the KVM host cannot run the
# lab or cannot give the USO the stack asks for; otherwise prints one JSON document: the
# kernel, libvirt and QEMU versions every result depends on, and whether QEMU has host_uso.
: "${URI:?}" "${DOMAIN_TYPE:?}" "${MIN_QEMU:?}" "${MIN_LIBVIRT:?}" "${USO_PROPERTIES:?}" "${FIREWALL:?}"
missing=()
for i in "${!TOOLS[@]}"; do
  command -v -- "${TOOLS[$i]}" >/dev/null 2>&1 || missing+=("${TOOLS[$i]} (install: ${PACKAGES[$i]})")
done
if [ "$DOMAIN_TYPE" = kvm ] && [ ! -c /dev/kvm ]; then
  missing+=("/dev/kvm (domainType kvm needs hardware virtualisation; or set libvirt.domainType qemu)")
fi
if [ "${#missing[@]}" -gt 0 ]; then
  fail "the KVM host lacks: $(printf '%s; ' "${missing[@]}")"
fi
versions=$(virsh -c "$URI" version --daemon 2>"$WORK/err") \
  || fail "libvirt at $URI does not answer ($(tr '\n' ' ' <"$WORK/err")): start libvirtd (systemctl enable --now libvirtd)"
# `virsh version` prints text, one "Label: value" per line.
field() { printf '%s\n' "$versions" | sed -n "s/^$1: *//p" | sed -n 1p; }
libvirt=$(field 'Running against daemon')
hypervisor=$(field 'Running hypervisor')
qemu=${hypervisor##* }
# The emulator libvirt would start for this domain type; its virtio-net lists what it offers.
virsh -c "$URI" domcapabilities --virttype "$DOMAIN_TYPE" >"$WORK/domcaps.xml" 2>"$WORK/err" \
  || fail "libvirt at $URI has no emulator for domain type $DOMAIN_TYPE: $(tr '\n' ' ' <"$WORK/err")"
emulator=$(xmlstarlet sel -t -v /domainCapabilities/path "$WORK/domcaps.xml")
"$emulator" -device virtio-net-pci,help >"$WORK/virtio-net.txt" 2>&1 \
  || fail "$emulator -device virtio-net-pci,help failed: $(tail -n 3 "$WORK/virtio-net.txt" | tr '\n' ' ')"
host_uso=false
grep -Eq '^ *host_uso=' "$WORK/virtio-net.txt" && host_uso=true
older() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n 1)" != "$2" ]; }
if [ -n "$USO_WANTED" ]; then
  if [ "$host_uso" != true ]; then
    fail "the stack asks for $USO_WANTED, but QEMU $qemu ($emulator) has no virtio-net host_uso: USO needs QEMU >= $MIN_QEMU and libvirt >= $MIN_LIBVIRT (this host: QEMU $qemu, libvirt $libvirt); on Debian 12 install qemu-system-x86 from bookworm-backports"
  fi
  if [ "$USO_PROPERTIES" = 1 ] && older "$libvirt" "$MIN_LIBVIRT"; then
    fail "the stack asks for $USO_WANTED, set through <qemu:override>, which needs libvirt >= $MIN_LIBVIRT (this host: libvirt $libvirt, QEMU $qemu)"
  fi
fi
# A firewall between the guest and the lab's ports (firewall-lib.sh): firewalld's zone of the
# bridge and the ports it rejects (host-firewall opens them unless host.firewall is leave), or,
# without firewalld, nftables input chains that drop or reject.
fw_zone_name=""
fw_closed_ports=""
: >"$WORK/nft-chains"
if fw_running; then
  fw_zone_name=$(fw_zone)
  fw_closed_ports=$(fw_closed "$fw_zone_name")
  if [ -n "$fw_closed_ports" ] && [ "$FIREWALL" = leave ]; then
    note "warning: firewalld zone $fw_zone_name (bridge $BRIDGE) rejects $fw_closed_ports from the guest and host.firewall is leave: the cells will fail unless the ports are opened"
  fi
else
  nft_rejecting_chains >"$WORK/nft-chains"
  if [ -s "$WORK/nft-chains" ]; then
    note "warning: nftables input chains drop or reject ($(paste -sd, "$WORK/nft-chains")); the lab opens ports only through firewalld: make sure they let the guest reach ${PORTS[*]}"
  fi
fi
# Who this host is, for telling hosts of a pool apart: its name and its CPU (the same variant
# on another CPU model is another measurement).
cpu_model=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo 2>/dev/null | sed -n 1p)
jq -nc --arg kernel "$(uname -r)" --arg libvirt "$libvirt" --arg libvirtClient "$(field 'Using library' | sed 's/^libvirt *//')" \
  --arg qemu "$qemu" --arg hypervisor "$hypervisor" --arg emulator "$emulator" --argjson qemuHostUso "$host_uso" \
  --arg hostname "$(uname -n)" --arg cpuModel "$cpu_model" \
  --arg fwZone "$fw_zone_name" --arg fwClosed "$fw_closed_ports" --rawfile nftChains "$WORK/nft-chains" \
  '{kernel: $kernel, libvirt: $libvirt, libvirtClient: $libvirtClient, qemu: $qemu, hypervisor: $hypervisor, emulator: $emulator,
    qemuHostUso: $qemuHostUso, hostname: $hostname, cpuModel: (if $cpuModel == "" then null else $cpuModel end),
    firewall: {firewalld: ($fwZone != ""), zone: (if $fwZone == "" then null else $fwZone end),
      closed: [$fwClosed | split(" ")[] | select(. != "")],
      nftRejecting: [$nftChains | split("\n")[] | select(. != "")]}}'
