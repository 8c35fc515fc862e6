set -euo pipefail
export LC_ALL=C
fail() { printf 'offload-lab: %s\n' "$*" >&2; exit 1; }
note() { printf 'offload-lab: %s\n' "$*" >&2; }
# A JSON string literal for $1; config values never carry control characters, tool output might.
json_str() {
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\t'/\\t}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//[$'\001'-$'\037']/?}
  printf '"%s"' "$s"
}
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
URI=qemu\:///system
DOMAIN_TYPE=qemu
USO_WANTED='guest.virtioNetFeatures host_uso'
USO_PROPERTIES=1
MIN_QEMU=8.2
MIN_LIBVIRT=8.2
TOOLS=(virsh qemu-img ip ethtool jq xmlstarlet iperf3 tcpdump)
PACKAGES=('libvirt-clients (Debian) / libvirt-client (RHEL)' 'qemu-utils (Debian) / qemu-img (RHEL)' iproute2 ethtool jq xmlstarlet iperf3 tcpdump)

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
versions=$(virsh -c "$URI" version --daemon 2>"$work/err") \
  || fail "libvirt at $URI does not answer ($(tr '\n' ' ' < "$work/err")): start libvirtd (systemctl enable --now libvirtd)"
field() { printf '%s\n' "$versions" | sed -n "s/^$1: *//p" | sed -n 1p; }
libvirt=$(field 'Running against daemon')
hypervisor=$(field 'Running hypervisor')
qemu=${hypervisor##* }
# The emulator libvirt would start for this domain type; its virtio-net lists what it offers.
virsh -c "$URI" domcapabilities --virttype "$DOMAIN_TYPE" >"$work/domcaps.xml" 2>"$work/err" \
  || fail "libvirt at $URI has no emulator for domain type $DOMAIN_TYPE: $(tr '\n' ' ' < "$work/err")"
emulator=$(xmlstarlet sel -t -v /domainCapabilities/path "$work/domcaps.xml")
"$emulator" -device virtio-net-pci,help >"$work/virtio-net.txt" 2>&1 \
  || fail "$emulator -device virtio-net-pci,help failed: $(tail -n 3 "$work/virtio-net.txt" | tr '\n' ' ')"
host_uso=false
grep -Eq '^ *host_uso=' "$work/virtio-net.txt" && host_uso=true
older() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n 1)" != "$2" ]; }
if [ -n "$USO_WANTED" ]; then
  if [ "$host_uso" != true ]; then
    fail "the stack asks for $USO_WANTED, but QEMU $qemu ($emulator) has no virtio-net host_uso: USO needs QEMU >= $MIN_QEMU and libvirt >= $MIN_LIBVIRT (this host: QEMU $qemu, libvirt $libvirt); on Debian 12 install qemu-system-x86 from bookworm-backports"
  fi
  if [ "$USO_PROPERTIES" = 1 ] && older "$libvirt" "$MIN_LIBVIRT"; then
    fail "the stack asks for $USO_WANTED, set through <qemu:override>, which needs libvirt >= $MIN_LIBVIRT (this host: libvirt $libvirt, QEMU $qemu)"
  fi
fi
jq -nc --arg kernel "$(uname -r)" --arg libvirt "$libvirt" --arg libvirtClient "$(field 'Using library' | sed 's/^libvirt *//')" \
  --arg qemu "$qemu" --arg hypervisor "$hypervisor" --arg emulator "$emulator" --argjson qemuHostUso "$host_uso" \
  '{kernel: $kernel, libvirt: $libvirt, libvirtClient: $libvirtClient, qemu: $qemu, hypervisor: $hypervisor, emulator: $emulator, qemuHostUso: $qemuHostUso}'
