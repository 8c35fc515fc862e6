#!/usr/bin/env bash
# Prints a directory holding the pinned Pulumi CLI, for `PATH="$(bash scripts/pulumi-cli.sh):$PATH"`.
# A `pulumi` already on PATH is used when it is the pinned version. Otherwise the CLI is built
# from the Go module proxy: get.pulumi.com and GitHub releases are out of reach by rule. The
# version and every module sum live in tools/pulumi/go.mod and go.sum (a wrapper module: the
# CLI's own go.mod has replace lines, so `go install …@version` refuses it); the build lands in
# a cache folder keyed by a digest of those files and of this build line, so a second run
# costs nothing. Progress goes to stderr, the directory to stdout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mod=$root/tools/pulumi
pkg=github.com/pulumi/pulumi/pkg/v3
version=$(awk -v p="$pkg" '$1 == p { print $2 }' "$mod/go.mod")
[ -n "$version" ] || { echo "pulumi-cli: $pkg has no version in $mod/go.mod" >&2; exit 1; }
# Without the version stamped in, the Automation API refuses the CLI as too old.
ldflags="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version"

if found=$(command -v pulumi 2>/dev/null) && [ "$("$found" version 2>/dev/null)" = "$version" ]; then
  echo "pulumi-cli: using $found ($version)" >&2
  dirname "$found"
  exit 0
fi

if [ "$(id -u)" = 0 ]; then base=/var/cache/offload-lab/pulumi; else base=${XDG_CACHE_HOME:-$HOME/.cache}/offload-lab/pulumi; fi
key=$(cat "$mod/go.mod" "$mod/go.sum" <(echo "$ldflags") | sha256sum | cut -c1-16)
bin=$base/$key/bin
if [ -x "$bin/pulumi" ] && [ "$("$bin/pulumi" version)" = "$version" ]; then
  echo "pulumi-cli: cached $bin/pulumi ($version)" >&2
  echo "$bin"
  exit 0
fi

# A machine of the go kind has Go here even when a non-login shell lacks it on PATH.
[ -d /usr/local/go/bin ] && PATH=$PATH:/usr/local/go/bin
command -v go >/dev/null || { echo "pulumi-cli: no pulumi $version on PATH and no Go toolchain to build it" >&2; exit 1; }
echo "pulumi-cli: building pulumi $version from the Go module proxy into $bin (several minutes, once)" >&2
mkdir -p "$base/$key"
tmp=$(mktemp -d "$base/$key/build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# -mod=readonly: go.sum must already hold every sum; the sum database checks what the proxy sends.
(cd "$mod" && go build -mod=readonly -o "$tmp/pulumi" -ldflags "$ldflags" "$pkg/cmd/pulumi") >&2
[ "$("$tmp/pulumi" version)" = "$version" ] || { echo "pulumi-cli: built CLI does not report $version" >&2; exit 1; }
mkdir -p "$bin"
mv "$tmp/pulumi" "$bin/pulumi"
echo "$bin"
