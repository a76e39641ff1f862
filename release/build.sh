#!/usr/bin/env bash
# Builds credvault's release binaries, reproducibly: the same commit built
# with the same Go version gives byte-identical files, wherever it is built.
#
#   release/build.sh VERSION [OUTDIR]      # OUTDIR defaults to dist/
#   PLATFORMS="linux/amd64" release/build.sh v1.2.3 /tmp/out
#   TAGS=credvault_nogcpkms,credvault_noazurekeyvault,credvault_nohashivault release/build.sh v1.2.3
#
# Each binary is credvault-VERSION-OS-ARCH (.exe on Windows), static
# (CGO_ENABLED=0), built with -trimpath (no local paths), an empty build ID,
# no symbol table, and the version in "credvault version"; the commit comes
# from git when the tree is a checkout. OUTDIR also gets SHA256SUMS, which
# "sha256sum -c SHA256SUMS" checks, and credvault.1 (the manual) when this
# machine's platform is among those built.
set -euo pipefail

version=${1:?usage: release/build.sh VERSION [OUTDIR]}
case $version in
v[0-9]*) ;;
*) echo "release/build.sh: the version must look like v1.2.3, not $version" >&2; exit 2 ;;
esac
out=${2:-dist}
platforms=${PLATFORMS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64}
# Build tags, such as those that leave out KMS drivers (example/credvault/kms.go).
tags=${TAGS:-}

root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$root"

# Nothing from the environment may change the bytes: no cgo, the baseline
# instruction sets, no experiments, flags only from this script, and the
# toolchain go.mod names or this one (never a download).
export CGO_ENABLED=0 GOAMD64=v1 GOARM64=v8.0 GOEXPERIMENT= GOFLAGS= GOTOOLCHAIN=local
ldflags="-s -w -buildid= -X main.version=$version"

binaries=()
for platform in $platforms; do
  goos=${platform%/*} goarch=${platform#*/}
  name=credvault-$version-$goos-$goarch
  if [ "$goos" = windows ]; then name=$name.exe; fi
  GOOS=$goos GOARCH=$goarch go build -trimpath -buildvcs=auto -tags="$tags" -ldflags="$ldflags" -o "$out/$name" ./example/credvault
  binaries+=("$name")
  echo "built $name"
done

# The manual, from the same text as the help, by the binary built for this
# machine, if there is one.
host=credvault-$version-$(go env GOHOSTOS)-$(go env GOHOSTARCH)
if [ -x "$out/$host" ]; then
  "$out/$host" man > "$out/credvault.1"
  binaries+=(credvault.1)
fi

cd "$out"
sha256sum "${binaries[@]}" > SHA256SUMS
echo "wrote $out/SHA256SUMS"
