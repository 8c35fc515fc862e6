# offload-lab host-offloads delete: restore the features saved before the lab
set -euo pipefail

# tap tap0
OL_DEV=tap0
OL_SAVED=/var/lib/offload-lab/state/ethtool-k.tap0
OL_TOUCHED=/var/lib/offload-lab/state/touched.tap0
OL_OWNER=/var/lib/offload-lab/state/owner.tap0
if [[ -e $OL_OWNER && $(cat "$OL_OWNER") != 49000fad4d00baf5 ]]; then
  echo "host-offloads delete: $OL_DEV was set again by a newer host-offloads; leaving it to that one" >&2
elif [[ -e $OL_SAVED ]]; then
  if [[ -e /sys/class/net/$OL_DEV && -e $OL_TOUCHED ]]; then
    while read -r ol_feature ol_printed; do
      ol_was=$(sed -n -E "s/^[[:space:]]*$ol_printed: (on|off).*/\1/p" "$OL_SAVED" | sed -n 1p)
      if [[ -n $ol_was ]] && ! ol_err=$(ethtool -K "$OL_DEV" "$ol_feature" "$ol_was" 2>&1); then
        echo "host-offloads delete: could not restore $ol_feature $ol_was on $OL_DEV: $ol_err" >&2
      fi
    done <"$OL_TOUCHED"
  fi
  rm -f "$OL_SAVED" "$OL_TOUCHED" "$OL_OWNER"
fi
