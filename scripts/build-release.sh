#!/usr/bin/env bash
# Builds the four release binaries as the container image does (static Swift standard library)
# and installs them into DIR (default: ./dist). Used by the Dockerfile and scripts/check-release.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-dist}"
scratch="${RESHAPR_RELEASE_SCRATCH:-.build}"
products=(reshapr-gateway reshapr-sync reshapr-ctrl reshapr)
for product in "${products[@]}"; do
    swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product "$product"
done
bin="$(swift build -c release --static-swift-stdlib --scratch-path "$scratch" --show-bin-path)"
mkdir -p "$out"
for product in "${products[@]}"; do
    install -m 0755 "$bin/$product" "$out/$product"
    # Debug information off (about a third of the size); symbols stay for backtraces.
    strip --strip-debug "$out/$product"
done
echo "release binaries in $out: ${products[*]}"
