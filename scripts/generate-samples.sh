#!/usr/bin/env bash
# Regenerates samples/petstore-grpc/petstore.pb, the descriptor set the gRPC sample serves,
# from samples/petstore-grpc/petstore.proto. Needs protoc (Debian: apt-get install protobuf-compiler).
set -euo pipefail
cd "$(dirname "$0")/../samples/petstore-grpc"
protoc -I. -I/usr/include --include_imports --include_source_info --descriptor_set_out=petstore.pb petstore.proto
echo "wrote samples/petstore-grpc/petstore.pb ($(stat -c %s petstore.pb) bytes)"
