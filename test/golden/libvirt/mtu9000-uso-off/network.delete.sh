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
NET=default
MODE=adopt
MTU=9000
if ! virsh -c "$URI" net-dumpxml --inactive --network "$NET" > "$work/current.xml" 2>/dev/null; then
  note "network $NET is gone: nothing to restore"
  exit 0
fi
saved=$(sed -n 's|.*<offloadlab:original[^>]*>\([A-Za-z0-9+/=]*\)</offloadlab:original>.*|\1|p' "$work/current.xml")
if [ -z "$saved" ]; then
  note "network $NET carries no saved definition: already restored"
  exit 0
fi
was_active=$(grep -o '<offloadlab:original[^>]*active="[a-z]*"' "$work/current.xml" | sed 's/.*active="\([a-z]*\)"/\1/')
printf '%s' "$saved" | base64 -d > "$work/original.xml"
virsh -c "$URI" net-define --file "$work/original.xml" >&2
if [ "$(virsh -c "$URI" net-info --network "$NET" | awk '$1 == "Active:" { print $2 }')" = yes ]; then
  virsh -c "$URI" net-destroy --network "$NET" >&2
fi
if [ "$was_active" = yes ]; then virsh -c "$URI" net-start --network "$NET" >&2; fi
note "restored the original definition of network $NET"
