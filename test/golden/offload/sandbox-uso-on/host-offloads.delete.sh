# offload-lab host-offloads delete: restore the features saved before the lab
set -euo pipefail

