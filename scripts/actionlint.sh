#!/usr/bin/env bash
# Prints a directory holding the pinned actionlint (the linter of GitHub Actions workflows), for
# `PATH="$(bash scripts/actionlint.sh):$PATH"`, built the way scripts/pulumi-cli.sh builds the
# Pulumi CLI: from the Go module proxy (GitHub releases are out of reach by rule), the version and
# every module sum in tools/actionlint/go.mod and go.sum (a wrapper module with a `tool` line),
# the version stamped in, the build in a cache folder keyed by a digest of those files and of
# this build line, so a second run costs nothing. Progress goes to stderr, the directory to stdout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mod=$root/tools/actionlint
pkg=github.com/rhysd/actionlint
version=$(awk -v p="$pkg" '$1 == p { print $2 }' "$mod/go.mod")
[ -n "$version" ] || { echo "actionlint: $pkg has no version in $mod/go.mod" >&2; exit 1; }
# Built as a dependency, actionlint cannot read its own version from the build info.
ldflags="-X $pkg.version=$version"

if [ "$(id -u)" = 0 ]; then base=/var/cache/offload-lab/actionlint; else base=${XDG_CACHE_HOME:-$HOME/.cache}/offload-lab/actionlint; fi
key=$(cat "$mod/go.mod" "$mod/go.sum" <(echo "$ldflags") | sha256sum | cut -c1-16)
bin=$base/$key/bin
if [ -x "$bin/actionlint" ] && [ "$("$bin/actionlint" -version | head -1)" = "$version" ]; then
  echo "actionlint: cached $bin/actionlint ($version)" >&2
  echo "$bin"
  exit 0
fi

# A machine of the go kind has Go here even when a non-login shell lacks it on PATH.
[ -d /usr/local/go/bin ] && PATH=$PATH:/usr/local/go/bin
command -v go >/dev/null || { echo "actionlint: no Go toolchain to build actionlint $version" >&2; exit 1; }
echo "actionlint: building actionlint $version from the Go module proxy into $bin (once)" >&2
mkdir -p "$base/$key"
tmp=$(mktemp -d "$base/$key/build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# -mod=readonly: go.sum must already hold every sum; the sum database checks what the proxy sends.
(cd "$mod" && go build -mod=readonly -o "$tmp/actionlint" -ldflags "$ldflags" "$pkg/cmd/actionlint") >&2
[ "$("$tmp/actionlint" -version | head -1)" = "$version" ] || { echo "actionlint: built binary does not report $version" >&2; exit 1; }
mkdir -p "$bin"
mv "$tmp/actionlint" "$bin/actionlint"
echo "$bin"
