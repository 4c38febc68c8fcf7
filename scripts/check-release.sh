#!/usr/bin/env bash
# Checks the container image's contents without a Docker engine: builds the release binaries
# with the Dockerfile's commands (scripts/build-release.sh), checks that they need no Swift
# runtime libraries, then runs docker/entrypoint.sh on them the way the image does:
#   1. gateway alone on the samples, HEALTHCHECK command answered;
#   2. reshapr-ctrl, then the entrypoint with RESHAPR_CTRL_HOST: sync beside the gateway,
#      an exposition created through the reshapr CLI served, docker stop (SIGTERM) clean.
# Takes a release build (10 to 20 minutes on 2 cores the first time). Run on demand.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

RESHAPR_RELEASE_SCRATCH=.build-release scripts/build-release.sh "$work/bin"
echo "== binaries"
for binary in "$work"/bin/*; do
    if ldd "$binary" | grep -q 'libswift\|libFoundation'; then
        echo "FAIL: $(basename "$binary") links Swift runtime libraries dynamically:" >&2
        ldd "$binary" >&2
        exit 1
    fi
    # What the runtime image provides (ubuntu:24.04, see the Dockerfile).
    for library in $(ldd "$binary" | awk '{print $1}' | grep -v 'linux-vdso\|ld-linux'); do
        case "$library" in
            libc.so.* | libm.so.* | libstdc++.so.* | libgcc_s.so.* | libz.so.*) ;;
            *)
                echo "FAIL: $(basename "$binary") needs $library, which the runtime image does not install" >&2
                exit 1
                ;;
        esac
    done
    printf '%-16s %6s MB  needs: %s\n' "$(basename "$binary")" "$(($(stat -c %s "$binary") / 1048576))" \
        "$(ldd "$binary" | awk '{print $1}' | grep -v 'linux-vdso\|ld-linux' | tr '\n' ' ')"
done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() {
    for _ in $(seq 1 200); do
        curl -fsS "$1" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "FAIL: $1 never answered" >&2
    return 1
}

echo "== 1. gateway on the samples"
port="$(free_port)"
env --default-signal=TERM,INT RESHAPR_BIN_DIR="$work/bin" RESHAPR_CONFIG_DIR="$root/samples" \
    docker/entrypoint.sh --host 127.0.0.1 --port "$port" 2>"$work/gateway.log" &
gateway=$!
pids+=("$gateway")
wait_http "http://127.0.0.1:$port/health/ready"
curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null && echo "HEALTHCHECK ok"
kill -TERM "$gateway"
wait "$gateway" && echo "stopped cleanly"

echo "== 2. control plane, then gateway with the sync beside it"
grpc="$(free_port)"
rest="$(free_port)"
RESHAPR_ADMIN_PASSWORD=check-release "$work/bin/reshapr-ctrl" --host 127.0.0.1 --grpc-port "$grpc" --http-port "$rest" \
    --database "$work/ctrl.sqlite" --insecure-plaintext-secrets 2>"$work/ctrl.log" &
pids+=($!)
for _ in $(seq 1 200); do grep -q "REST API listening" "$work/ctrl.log" && break; sleep 0.1; done
export RESHAPR_CLI_CONFIG="$work/cli.json"
cli="$work/bin/reshapr"
echo check-release | "$cli" login --server "http://127.0.0.1:$rest" --username admin >/dev/null
token="$("$cli" api-token create check-release -v 1 | sed -n 's/.*register Gateway is: //p')"
"$cli" import -f samples/petstore/openapi.yaml >/dev/null
service="$("$cli" service list --output json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')"
config="$("$cli" config create "$service" --name petstore --mock | sed -n 's/.*with ID: //p')"
group="$("$cli" gateway-group list --output json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')"
"$cli" expo create --configuration "$config" --gateway-group "$group" >/dev/null
port="$(free_port)"
env --default-signal=TERM,INT RESHAPR_BIN_DIR="$work/bin" RESHAPR_SYNC_DIR="$work/config" \
    RESHAPR_CTRL_HOST=127.0.0.1 RESHAPR_CTRL_PORT="$grpc" RESHAPR_CTRL_TLS_PLAINTEXT=true RESHAPR_CTRL_TOKEN="$token" \
    RESHAPR_GATEWAY_ID=check-release RESHAPR_GATEWAY_LABELS=env=dev,team=reshapr \
    docker/entrypoint.sh --host 127.0.0.1 --port "$port" 2>"$work/container.log" &
container=$!
pids+=("$container")
wait_http "http://127.0.0.1:$port/health/ready" || { cat "$work/container.log" >&2; exit 1; }
curl -fsS "http://127.0.0.1:$port/status" | python3 -c 'import json,sys; s=json.load(sys.stdin); assert s["sync"]["state"]=="synchronized", s["sync"]; print("synchronized,", len(s["endpoints"]), "endpoint(s)")'
kill -TERM "$container"
wait "$container" && echo "stopped cleanly"
echo "check-release: ok"
