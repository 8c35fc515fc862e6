#!/usr/bin/env bash
# Prints a directory holding a pinned Go program that the tests use, for
# `PATH="$(bash scripts/go-tool.sh NAME):$PATH"`: tools/NAME/go.mod is a wrapper module whose
# `tool` line names the program, and go.mod and go.sum pin its version and every module sum.
# Built the way scripts/pulumi-cli.sh builds the Pulumi CLI: from the Go module proxy (GitHub
# releases are out of reach by rule), `-mod=readonly` so the sums are checked, into a cache
# folder keyed by a digest of those files and of the build line, so a second run costs nothing.
# tools/NAME/ldflags, when present, holds the -ldflags (`$VERSION` is the pinned version).
# Tools: actionlint (lints the example CI workflow), gofakes3 (an S3-compatible server for the
# state backend test). Progress goes to stderr, the directory to stdout.
set -euo pipefail
name=${1:?usage: go-tool.sh NAME}
root=$(cd "$(dirname "$0")/.." && pwd)
mod=$root/tools/$name
[ -f "$mod/go.mod" ] || { echo "go-tool: no $mod/go.mod" >&2; exit 1; }
pkg=$(awk '$1 == "tool" { print $2; exit }' "$mod/go.mod")
[ -n "$pkg" ] || { echo "go-tool: no tool line in $mod/go.mod" >&2; exit 1; }
# The pinned module is the one whose path starts the program's package path.
version=$(awk -v p="$pkg" '$2 ~ /^v/ && index(p "/", $1 "/") == 1 { print $2 }' "$mod/go.mod" | head -1)
[ -n "$version" ] || { echo "go-tool: no version for $pkg in $mod/go.mod" >&2; exit 1; }
ldflags=""
[ -f "$mod/ldflags" ] && ldflags=$(sed "s/\$VERSION/$version/g" "$mod/ldflags")
exe=$(basename "$pkg")

if [ "$(id -u)" = 0 ]; then base=/var/cache/offload-lab/$name; else base=${XDG_CACHE_HOME:-$HOME/.cache}/offload-lab/$name; fi
key=$(cat "$mod/go.mod" "$mod/go.sum" <(echo "$ldflags") | sha256sum | cut -c1-16)
bin=$base/$key/bin
if [ -x "$bin/$exe" ]; then
  echo "go-tool: cached $bin/$exe ($version)" >&2
  echo "$bin"
  exit 0
fi

# A machine of the go kind has Go here even when a non-login shell lacks it on PATH.
[ -d /usr/local/go/bin ] && PATH=$PATH:/usr/local/go/bin
command -v go >/dev/null || { echo "go-tool: no Go toolchain to build $exe $version" >&2; exit 1; }
echo "go-tool: building $exe $version from the Go module proxy into $bin (once)" >&2
mkdir -p "$base/$key"
tmp=$(mktemp -d "$base/$key/build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$mod" && go build -mod=readonly -o "$tmp/$exe" -ldflags "$ldflags" "$pkg") >&2
mkdir -p "$bin"
mv "$tmp/$exe" "$bin/$exe"
echo "$bin"
