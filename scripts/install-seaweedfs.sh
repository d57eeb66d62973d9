#!/usr/bin/env bash
# Installs SeaweedFS's `weed`, the real S3-compatible server the model-store tests start on loopback.
# Built from the Go module proxy at a pinned commit (SeaweedFS publishes no semver module tags, so the pin is
# a pseudo-version). Idempotent: a `weed` of this version already installed is kept. About 5 minutes of
# compiling on 2 cores, 3-5 GB of temporary module and build caches, removed afterwards.
set -euo pipefail

SEAWEEDFS_MODULE=github.com/seaweedfs/seaweedfs
SEAWEEDFS_PIN=v0.0.0-20261109003541-7506e5f91cd6   # SeaweedFS 4.53 (2026-11-09)
SEAWEEDFS_VERSION=4.53
GO_TOOLCHAIN=go1.26.8
PREFIX=${SEAWEEDFS_PREFIX:-/usr/local}
SUDO=""
[ -w "$PREFIX/bin" ] || SUDO="sudo"

if command -v "$PREFIX/bin/weed" >/dev/null 2>&1 && "$PREFIX/bin/weed" version 2>/dev/null | grep -q " $SEAWEEDFS_VERSION "; then
  echo "SeaweedFS $SEAWEEDFS_VERSION already installed at $PREFIX/bin/weed"
  exit 0
fi

work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
export GOMODCACHE="$work/mod" GOCACHE="$work/cache" GOPATH="$work/gopath" GOFLAGS=-buildvcs=false GOTOOLCHAIN=auto GOTELEMETRY=off

# A Go new enough to build it: the one on PATH (it fetches a newer toolchain itself), else the official
# toolchain module from the Go module proxy.
GO=go
if ! command -v go >/dev/null 2>&1; then
  echo "no Go on PATH: fetching the $GO_TOOLCHAIN toolchain module from the Go module proxy"
  curl -fsSL -o "$work/go.zip" "https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-$GO_TOOLCHAIN.linux-amd64.zip"
  (cd "$work" && unzip -q go.zip)
  GO=$(find "$work/golang.org" -path '*/bin/go' -type f | head -1)
fi

start=$(date +%s)
dir=$("$GO" mod download -json "$SEAWEEDFS_MODULE@$SEAWEEDFS_PIN" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
cd "$dir"
"$GO" build -trimpath -ldflags='-s -w' -o "$work/weed" ./weed
$SUDO install -m 0755 "$work/weed" "$PREFIX/bin/weed"
echo "built SeaweedFS $SEAWEEDFS_VERSION in $(( $(date +%s) - start ))s: $("$PREFIX/bin/weed" version | head -1)"
