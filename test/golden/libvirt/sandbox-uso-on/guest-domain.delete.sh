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
DOM=sandbox-lab
NET=offload-lab
TAP=tap0
MTU=1500
MAC=52\:54\:00\:e8\:0c\:a5
ALIAS=ua-lab-nic
DOMAIN_TYPE=qemu
MACHINE=q35
FIRMWARE=bios
TPM=no
GUEST_ADDRESS=10.77.0.10
START_TIMEOUT=60
if virsh -c "$URI" dominfo --domain "$DOM" >/dev/null 2>&1; then
  if [ "$(virsh -c "$URI" domstate --domain "$DOM" | sed -n 1p)" != "shut off" ]; then
    virsh -c "$URI" destroy --domain "$DOM" >&2
  fi
  virsh -c "$URI" undefine --nvram --domain "$DOM" >&2
else
  note "domain $DOM is already gone"
fi
deadline=$((SECONDS + 30))
while [ -e "/sys/class/net/$TAP" ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail "tap $TAP still exists after domain $DOM was removed"
  sleep 1
done
