# offload-lab host-offloads delete: restore the features saved before the lab
set -euo pipefail

# tap tap0
OL_DEV=tap0
OL_SAVED=/var/lib/offload-lab/state/ethtool-k.tap0
if [[ -e $OL_SAVED ]]; then
  if [[ -e /sys/class/net/$OL_DEV ]]; then
    ol_was=$(sed -n -E 's/^[[:space:]]*tx-udp-segmentation: (on|off).*/\1/p' "$OL_SAVED" | sed -n 1p)
    if [[ -n $ol_was ]] && ! ol_err=$(ethtool -K "$OL_DEV" tx-udp-segmentation "$ol_was" 2>&1); then
      echo "host-offloads delete: could not restore tx-udp-segmentation $ol_was on $OL_DEV: $ol_err" >&2
    fi
  fi
  rm -f "$OL_SAVED"
fi
