#!/usr/bin/env bash
# Regenerates Sources/ReshaprSyncProtocol/Generated/ from schema/reshapr/gateway/v1/gateway.proto.
# The generated code is committed: CI and builds never need protoc or the plugins.
#
# Needs protoc (Debian: apt-get install protobuf-compiler). The two protoc plugins are built once
# from the same package versions the project uses, into .build-protoc/ (about 10 minutes).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.build-protoc"
out="$root/Sources/ReshaprSyncProtocol/Generated"

command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }
if [[ ! -x $tools/bin/protoc-gen-swift || ! -x $tools/bin/protoc-gen-grpc-swift-2 ]]; then
  mkdir -p "$tools/src/Sources/Placeholder" "$tools/bin"
  cat > "$tools/src/Package.swift" <<'SWIFT'
// swift-tools-version: 6.1
import PackageDescription
let package = Package(
    name: "protoc-plugins",
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", exact: "2.4.1"),
    ],
    targets: [.target(name: "Placeholder", path: "Sources/Placeholder")]
)
SWIFT
  echo "// Placeholder so that the package has a target." > "$tools/src/Sources/Placeholder/Placeholder.swift"
  (cd "$tools/src" && swift build --product protoc-gen-swift && swift build --product protoc-gen-grpc-swift-2)
  cp "$tools/src/.build/debug/protoc-gen-swift" "$tools/src/.build/debug/protoc-gen-grpc-swift-2" "$tools/bin/"
fi

rm -rf "$out" && mkdir -p "$out"
protoc \
  --plugin="protoc-gen-swift=$tools/bin/protoc-gen-swift" \
  --plugin="protoc-gen-grpc-swift-2=$tools/bin/protoc-gen-grpc-swift-2" \
  --swift_opt=Visibility=Public --swift_out="$out" \
  --grpc-swift-2_opt=Visibility=Public,Client=true,Server=true --grpc-swift-2_out="$out" \
  -I "$root/schema" "$root/schema/reshapr/gateway/v1/gateway.proto"
echo "generated:" && (cd "$out" && find . -name '*.swift' | sort)
