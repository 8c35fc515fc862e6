#!/usr/bin/env bash
# The main job: all set-up, then offload-lab with the given arguments. With none, renders
# every stack into out/<stack>/ (what `pulumi up` would run, without Pulumi or a host).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >&2
if [ $# -gt 0 ]; then
  exec npx --no-install offload-lab "$@"
fi
for f in stacks/Pulumi.*.yaml; do
  stack=${f#stacks/Pulumi.}; stack=${stack%.yaml}
  npx --no-install offload-lab render --stack "$stack" --out "out/$stack"
done
