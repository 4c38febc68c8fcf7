#!/usr/bin/env bash
# schemathesis (PyPI) against a live reshapr-ctrl: every operation of api/openapi.json gets a
# bounded number of generated requests, logged in, with a catalogue to list. No answer may be a
# 5xx or contradict the description (status code, content type, headers, body schema).
#
# Usage: scripts/check-rest-api.sh [MAX_SECONDS]   (default 120; needs `swift build` and
# `pip install schemathesis`). CI runs it after the tests, alone, since it keeps a core busy.
set -euo pipefail
cd "$(dirname "$0")/.."
max_time="${1:-120}"
bin="$(swift build --show-bin-path)"
work="$(mktemp -d)"
ctrl_pid=""
cleanup() {
    if [ -n "$ctrl_pid" ]; then kill "$ctrl_pid" 2> /dev/null || true; wait "$ctrl_pid" 2> /dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

RESHAPR_ADMIN_PASSWORD="correct horse" "$bin/reshapr-ctrl" --host 127.0.0.1 --grpc-port 0 --http-port 0 \
    --database "$work/ctrl.sqlite" --organization acme > "$work/ctrl.log" 2>&1 &
ctrl_pid=$!
port=""
for _ in $(seq 100); do
    port="$(sed -n 's/.* port=\([0-9]*\) .*REST API listening.*/\1/p' "$work/ctrl.log" | head -1)"
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { cat "$work/ctrl.log"; echo "reshapr-ctrl did not start" >&2; exit 1; }

# Something in every list, so that list answers are checked against their schemas.
export RESHAPR_CLI_CONFIG="$work/cli.json"
echo "correct horse" | "$bin/reshapr" login --server "http://127.0.0.1:$port" --password-stdin > /dev/null
"$bin/reshapr" import -f samples/petstore/openapi.yaml --be http://127.0.0.1:9/api > /dev/null
"$bin/reshapr" secret create creds --token t --description "for the check" > /dev/null
"$bin/reshapr" api-token create sync -v 1 > /dev/null
token="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["token"])' "$work/cli.json")"

# Logging out would end the session the run uses. schemathesis keeps a cache in its working
# directory: run it in the temporary one.
cd "$work"
HOME="$work" python3 -m schemathesis.cli run "http://127.0.0.1:$port/api/v1/openapi.json" --url "http://127.0.0.1:$port" \
    -H "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
    --exclude-operation-id logout --phases examples,coverage,fuzzing \
    --max-examples 10 --workers 1 --request-timeout 10 --max-time "$max_time" --seed 19 --no-color
