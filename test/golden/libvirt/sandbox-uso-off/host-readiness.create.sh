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
TOOLS=(virsh qemu-img ip ethtool iperf3 tshark)
PACKAGES=('libvirt-clients (Debian) / libvirt-client (RHEL)' 'qemu-utils (Debian) / qemu-img (RHEL)' iproute2 ethtool iperf3 'tshark (Debian) / wireshark-cli (RHEL)')

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
printf '{"kernel":%s,"libvirt":%s,"libvirtClient":%s,"qemu":%s,"hypervisor":%s}\n' \
  "$(json_str "$(uname -r)")" "$(json_str "$libvirt")" "$(json_str "$(field 'Using library' | sed 's/^libvirt *//')")" \
  "$(json_str "$qemu")" "$(json_str "$hypervisor")"
