#!/usr/bin/env bash
# Runs the benchmarks on this machine and prints their figures. On demand only (not in CI).
#   Benchmarks/run.sh reload          # issue 4: reload latency and failed calls under load
#   Benchmarks/run.sh sdk-comparison  # issue 3: our MCP layer vs the MCP Swift SDK's, same tool, same load
# Everything listens on 127.0.0.1 only, and every run is bounded in time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
what=${1:-all}

echo "building release binaries..." >&2
(cd "$root" && swift build -c release --product reshapr-gateway >&2)
(cd "$here" && swift build -c release >&2)
gateway="$root/.build/release/reshapr-gateway"
bin="$here/.build/release"

if [[ $what == reload || $what == all ]]; then
  echo "== reload: rename(2) of a changed plan -> new tool list served (100 changes, 4 clients calling meanwhile)"
  "$bin/reload-bench" --gateway "$gateway" --samples "$root/samples" --changes 100 --load-clients 4
fi

if [[ $what == sdk-comparison || $what == all ]]; then
  echo "== tools/call through the gateway (mock Petstore) vs the MCP Swift SDK server (same tool, same answer)"
  "$gateway" --config-dir "$root/samples" --host 127.0.0.1 --port 7791 --log-level warning --no-watch >/dev/null 2>&1 &
  gw=$!
  "$bin/sdk-mcp-server" --host 127.0.0.1 --port 7790 >/dev/null 2>&1 &
  sdk=$!
  trap 'kill $gw $sdk 2>/dev/null || true' EXIT
  sleep 2
  for c in 1 16 64; do
    printf 'reshapr  c=%-3s ' "$c"
    "$bin/mcp-load" --url http://127.0.0.1:7791/mcp/default/petstore/1.0.0 --tool getPetById --arguments '{"petId":10}' --concurrency "$c" --duration 5
    printf 'swiftsdk c=%-3s ' "$c"
    "$bin/mcp-load" --url http://127.0.0.1:7790/mcp --tool getPetById --arguments '{"petId":10}' --concurrency "$c" --duration 5
  done
fi
