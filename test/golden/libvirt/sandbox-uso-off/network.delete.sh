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
NET=offload-lab
MODE=dedicated
MTU=1500
if virsh -c "$URI" net-info --network "$NET" >/dev/null 2>&1; then
  if [ "$(virsh -c "$URI" net-info --network "$NET" | awk '$1 == "Active:" { print $2 }')" = yes ]; then
    virsh -c "$URI" net-destroy --network "$NET" >&2
  fi
  if virsh -c "$URI" net-info --network "$NET" >/dev/null 2>&1; then
    virsh -c "$URI" net-undefine --network "$NET" >&2
  fi
else
  note "network $NET is already gone"
fi
