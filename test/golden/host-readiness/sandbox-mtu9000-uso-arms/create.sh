#!/usr/bin/env bash
# offload-lab host-readiness: src/plan/host-readiness/create.sh, after the stack's values
set -euo pipefail
URI=qemu:///system
DOMAIN_TYPE=qemu
TOOLS=(virsh qemu-img ip ethtool jq xmlstarlet iperf3)
PACKAGES=("libvirt-clients (Debian) / libvirt-client (RHEL)" "qemu-utils (Debian) / qemu-img (RHEL)" iproute2 ethtool jq xmlstarlet iperf3)
USO_WANTED="guest.virtioNetFeatures host_uso and matrix.usoArms (the guest's USO on in every other cell)"
USO_PROPERTIES=1
MIN_QEMU=8.2
MIN_LIBVIRT=8.2
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
# Fails early, with one message naming everything to install, when the KVM host cannot run the
# lab or cannot give the USO the stack asks for; otherwise prints one JSON document: the
# kernel, libvirt and QEMU versions every result depends on, and whether QEMU has host_uso.
: "${URI:?}" "${DOMAIN_TYPE:?}" "${MIN_QEMU:?}" "${MIN_LIBVIRT:?}" "${USO_PROPERTIES:?}"
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
# Who this host is, for telling hosts of a pool apart: its name and its CPU (the same variant
# on another CPU model is another measurement).
cpu_model=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo 2>/dev/null | sed -n 1p)
jq -nc --arg kernel "$(uname -r)" --arg libvirt "$libvirt" --arg libvirtClient "$(field 'Using library' | sed 's/^libvirt *//')" \
  --arg qemu "$qemu" --arg hypervisor "$hypervisor" --arg emulator "$emulator" --argjson qemuHostUso "$host_uso" \
  --arg hostname "$(uname -n)" --arg cpuModel "$cpu_model" \
  '{kernel: $kernel, libvirt: $libvirt, libvirtClient: $libvirtClient, qemu: $qemu, hypervisor: $hypervisor, emulator: $emulator,
    qemuHostUso: $qemuHostUso, hostname: $hostname, cpuModel: (if $cpuModel == "" then null else $cpuModel end)}'
