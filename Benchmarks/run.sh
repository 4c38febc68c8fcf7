#!/usr/bin/env bash
# Runs the benchmarks on this machine and prints their figures as tables, and as JSON in
# Benchmarks/results.json. On demand only (not in CI). Everything listens on 127.0.0.1 and
# every run is bounded in time.
#   Benchmarks/run.sh             # everything
#   Benchmarks/run.sh compare     # tools/call: direct backend, reshapr, FastMCP (1/16/64 clients)
#   Benchmarks/run.sh sdk         # tools/call: reshapr's MCP layer vs the MCP Swift SDK's (mock answer)
#   Benchmarks/run.sh eras        # tools/call: MCP 2026-07-28 (stateless) vs a 2025-06-18 session, same gateway
#   Benchmarks/run.sh filters     # tools/call with and without an output filter (retain+patch, TOON) at 1 and 64 clients;
#                                 # answer and tools/list sizes before/after; TOON vs compact JSON on the corpus
#   Benchmarks/run.sh scale       # cold start + memory at 1/100/1000 expositions, tools/list on 1000 tools
#   Benchmarks/run.sh bigspec     # cold start on one 10.7 MB and one 13.5 MB description (1,383 and 1,736 operations), the latter also split in 1,139 files
#   Benchmarks/run.sh reload      # reload latency and failed calls during reloads
#   Benchmarks/run.sh sync        # REST change on reshapr-ctrl -> changed tool list served through reshapr-sync
#   Benchmarks/run.sh syncload    # N syncs (SYNC_GATEWAYS, default 1000; SYNC_CONNECT at a time, default all) on their own connections against one reshapr-ctrl:
#                                 # all snapshots in, ctrl memory per gateway, idle CPU, one change reaching all (p99)
#                                 # SYNC_POSTGRES=1: the store on a throwaway PostgreSQL cluster (Debian's postgresql),
#                                 # SYNC_REPLICAS=N control-plane replicas on it, the syncs spread over them;
#                                 # SYNC_REGISTER_ONLY=1: connections without Watch (the memory of a connection alone);
#                                 # SYNC_PER_CONNECTION=N: N gateways' streams on one connection, as behind a bastion sync
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
corpus=${RESHAPR_CORPUS_DIR:-$root/../shared/corpus/openapi}
what=${1:-all}
seconds=${BENCH_SECONDS:-5}

if [[ ${BENCH_NO_BUILD:-0} != 1 ]]; then  # BENCH_NO_BUILD=1: the release binaries as they are
  echo "building release binaries..." >&2
  (cd "$root" && swift build -c release >&2)
  (cd "$here" && swift build -c release >&2)
fi
gateway="$root/.build/release/reshapr-gateway"
bin="$here/.build/release"
pids=()
# Under set -e a failing kill (the server already stopped) would end the trap, and the run, with 1.
trap 'for p in "${pids[@]:-}"; do if [[ -n $p ]]; then kill "$p" 2>/dev/null || true; fi; done' EXIT
work=$(mktemp -d)

# An MCP session on URL (initialize, then notifications/initialized); prints its id.
mcp_session() {
  local headers=(-H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream')
  local id
  id=$(curl -s -D - -o /dev/null "${headers[@]}" \
    -d '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"wrk","version":"1"}}}' "$1" |
    awk -F': ' 'tolower($1)=="mcp-session-id"{print $2}' | tr -d '\r')
  [[ -n $id ]] || { echo "no MCP session from $1" >&2; exit 1; }
  curl -s -o /dev/null "${headers[@]}" -H "Mcp-Session-Id: $id" -H 'MCP-Protocol-Version: 2025-06-18' -d '{"jsonrpc":"2.0","method":"notifications/initialized"}' "$1"
  echo "$id"
}

# petstore_service DIR: the sample Petstore's Service (its OpenAPI description only) in DIR.
petstore_service() {
  cp "$root/samples/petstore/openapi.yaml" "$1/"
  printf '%s\n' 'apiVersion: reshapr.io/v1' 'kind: Service' 'metadata: {name: petstore}' \
    'spec: {version: 1.0.0, type: REST, artifacts: [{type: OPENAPI, path: openapi.yaml}]}' > "$1/service.yaml"
}

# Prefix of wrk's command line (the filters mode pins it to a CPU).
load_pin=()

# wrk_run CLIENTS LABEL SESSIONS|get URL [HOOK]: a 1 s warm-up, then the measured run (one JSON
# line); HOOK, if given, runs just before the measured run.
wrk_run() {
  local threads=$1
  local mode=mcp
  [[ $3 == get ]] && mode=get
  [[ $3 == modern ]] && mode=modern
  local env=(MODE=$mode SESSIONS="$3" TOOL=getPetById ARGUMENTS='{"petId":10}' LABEL="$2" CONCURRENCY="$1")
  env "${env[@]}" WARMUP=1 "${load_pin[@]}" wrk -t"$threads" -c"$1" -d1s -s "$here/wrk/call.lua" "$4" >/dev/null
  if [[ -n ${5:-} ]]; then $5; fi
  env "${env[@]}" "${load_pin[@]}" wrk -t"$threads" -c"$1" -d"${seconds}s" -s "$here/wrk/call.lua" "$4" | grep '^{'
}

{
if [[ $what == compare || $what == all ]]; then
  if ! command -v wrk >/dev/null; then
    echo "compare needs wrk: apt-get install wrk" >&2
    exit 1
  fi
  if [[ ! -x $here/.venv/bin/python ]]; then
    python3 -m venv "$here/.venv" >&2
    "$here/.venv/bin/pip" install --quiet "fastmcp==4.2.3" >&2
  fi
  mkdir -p "$work/config/petstore"
  petstore_service "$work/config/petstore"
  cat > "$work/config/petstore/mcp.yaml" <<'YAML'
apiVersion: reshapr.io/v1
kind: ConfigurationPlan
metadata: {name: petstore}
spec:
  service: {name: petstore, version: 1.0.0}
  backend: {endpoint: "http://127.0.0.1:7792/api/v3", timeout: 30s}
---
apiVersion: reshapr.io/v1
kind: Exposition
metadata: {name: petstore}
spec: {plan: petstore}
YAML
  "$bin/petstore-backend" --port 7792 >/dev/null 2>&1 & pids+=($!)
  "$gateway" --config-dir "$work/config" --host 127.0.0.1 --port 7791 --log-level warning --no-watch >/dev/null 2>&1 & pids+=($!)
  "$here/.venv/bin/python" "$here/fastmcp_server.py" "$root/samples/petstore/openapi.yaml" http://127.0.0.1:7792/api/v3 7793 >/dev/null 2>&1 & pids+=($!)
  sleep 5
  direct=http://127.0.0.1:7792/api/v3/pet/10
  reshapr=http://127.0.0.1:7791/mcp/default/petstore/1.0.0
  fastmcp=http://127.0.0.1:7793/mcp
  for c in 1 16 64; do
    # One wrk thread, connection and session per client, as mcp-load has (a session shared by
    # concurrent connections stalls FastMCP).
    reshapr_sessions=$(for _ in $(seq "$c"); do mcp_session "$reshapr"; done | paste -sd,)
    fastmcp_sessions=$(for _ in $(seq "$c"); do mcp_session "$fastmcp"; done | paste -sd,)
    # wrk: a lean C client, so that the figures are the servers' (the issue's added-latency target is read here).
    wrk_run "$c" direct get "$direct"
    wrk_run "$c" reshapr "$reshapr_sessions" "$reshapr"
    wrk_run "$c" fastmcp "$fastmcp_sessions" "$fastmcp"
    # mcp-load: a Swift client on AsyncHTTPClient, one session per client; heavier, shown for comparison.
    "$bin/mcp-load" --label direct --direct --url "$direct" --concurrency "$c" --duration "$seconds"
    "$bin/mcp-load" --label reshapr --url "$reshapr" --tool getPetById --arguments '{"petId":10}' --concurrency "$c" --duration "$seconds"
    "$bin/mcp-load" --label fastmcp --url "$fastmcp" --tool getPetById --arguments '{"petId":10}' --concurrency "$c" --duration "$seconds"
  done
fi

if [[ $what == sdk || $what == all ]]; then
  "$gateway" --config-dir "$root/samples" --host 127.0.0.1 --port 7794 --log-level warning --no-watch >/dev/null 2>&1 & pids+=($!)
  "$bin/sdk-mcp-server" --host 127.0.0.1 --port 7790 >/dev/null 2>&1 & pids+=($!)
  sleep 2
  for c in 1 16 64; do
    "$bin/mcp-load" --label reshapr-mock --url http://127.0.0.1:7794/mcp/default/petstore/1.0.0 --tool getPetById --arguments '{"petId":10}' --concurrency "$c" --duration "$seconds"
    "$bin/mcp-load" --label swift-sdk-mock --url http://127.0.0.1:7790/mcp --tool getPetById --arguments '{"petId":10}' --concurrency "$c" --duration "$seconds"
  done
fi

if [[ $what == eras || $what == all ]]; then
  if ! command -v wrk >/dev/null; then
    echo "eras needs wrk: apt-get install wrk" >&2
    exit 1
  fi
  "$gateway" --config-dir "$root/samples" --host 127.0.0.1 --port 7795 --log-level warning --no-watch >/dev/null 2>&1 & pids+=($!)
  sleep 2
  url=http://127.0.0.1:7795/mcp/default/petstore/1.0.0
  for c in 1 16 64; do
    sessions=$(for _ in $(seq "$c"); do mcp_session "$url"; done | paste -sd,)
    wrk_run "$c" era-legacy "$sessions" "$url"
    wrk_run "$c" era-modern modern "$url"
  done
fi

if [[ $what == filters || $what == all ]]; then
  if ! command -v wrk >/dev/null; then
    echo "filters needs wrk: apt-get install wrk" >&2
    exit 1
  fi
  mkdir -p "$work/filters/petstore" "$work/filters/twilio"
  petstore_service "$work/filters/petstore"
  cat > "$work/filters/petstore/mcp.yaml" <<'YAML'
apiVersion: reshapr.io/v1
kind: ConfigurationPlan
metadata: {name: plain}
spec:
  service: {name: petstore, version: 1.0.0}
  backend: {endpoint: "http://127.0.0.1:7796/api/v3", timeout: 30s}
---
apiVersion: reshapr.io/v1
kind: ConfigurationPlan
metadata: {name: retained}
spec:
  service: {name: petstore, version: 1.0.0}
  backend: {endpoint: "http://127.0.0.1:7796/api/v3", timeout: 30s}
  tools:
    overrides:
      getPetById:
        output:
          jsonRetain: [/name, /status, /category/name, /tags]
          jsonPatches:
            - {op: move, from: /category/name, path: /kind}
            - {op: remove, path: /category}
---
apiVersion: reshapr.io/v1
kind: ConfigurationPlan
metadata: {name: toon}
spec:
  service: {name: petstore, version: 1.0.0}
  backend: {endpoint: "http://127.0.0.1:7796/api/v3", timeout: 30s}
  tools: {overrides: {getPetById: {output: {convertToToon: true}}}}
---
{"apiVersion": "reshapr.io/v1", "kind": "Exposition", "metadata": {"name": "plain"}, "spec": {"plan": "plain", "path": "/mcp/plain"}}
---
{"apiVersion": "reshapr.io/v1", "kind": "Exposition", "metadata": {"name": "retained"}, "spec": {"plan": "retained", "path": "/mcp/retained"}}
---
{"apiVersion": "reshapr.io/v1", "kind": "Exposition", "metadata": {"name": "toon"}, "spec": {"plan": "toon", "path": "/mcp/toon"}}
YAML
  # tools/list of a large REST API, whole and reshaped: two custom tools for one use case.
  cp "$corpus/twilio_api_v2010.json" "$work/filters/twilio/openapi.json"
  cat > "$work/filters/twilio/custom-tools.yaml" <<'YAML'
apiVersion: reshapr.io/v1alpha1
kind: CustomTools
service: {name: twilio, version: '1'}
customTools:
  recentCalls:
    tool: ListCall
    description: The 20 most recent calls of the account.
    input: {type: object, properties: {account: {type: string}}, required: [account]}
    arguments: {AccountSid: '${account}', PageSize: 20}
  callDetails:
    tool: FetchCall
    description: One call of the account.
    input: {type: object, properties: {account: {type: string}, call: {type: string}}, required: [account, call]}
    arguments: {AccountSid: '${account}', Sid: '${call}'}
YAML
  cat > "$work/filters/twilio/mcp.yaml" <<'YAML'
# YAML documents in flow style (a file that starts with "{" is read as one JSON document).
{"apiVersion": "reshapr.io/v1", "kind": "Service", "metadata": {"name": "twilio"}, "spec": {"version": "1", "type": "REST", "artifacts": [{"type": "OPENAPI", "path": "openapi.json"}, {"type": "RESHAPR_CUSTOM_TOOLS", "path": "custom-tools.yaml"}]}}
---
{"apiVersion": "reshapr.io/v1", "kind": "ConfigurationPlan", "metadata": {"name": "twilio-all"}, "spec": {"service": {"name": "twilio", "version": "1"}, "backend": {"mock": true}, "tools": {"exclude": ["recentCalls", "callDetails"]}}}
---
{"apiVersion": "reshapr.io/v1", "kind": "ConfigurationPlan", "metadata": {"name": "twilio-reshaped"}, "spec": {"service": {"name": "twilio", "version": "1"}, "backend": {"mock": true}, "tools": {"include": ["recentCalls", "callDetails"]}}}
---
{"apiVersion": "reshapr.io/v1", "kind": "Exposition", "metadata": {"name": "twilio-all"}, "spec": {"plan": "twilio-all", "path": "/mcp/twilio-all"}}
---
{"apiVersion": "reshapr.io/v1", "kind": "Exposition", "metadata": {"name": "twilio-reshaped"}, "spec": {"plan": "twilio-reshaped", "path": "/mcp/twilio-reshaped"}}
YAML
  # The gateway on CPU 0, the backend and wrk on CPU 1 (FILTER_PIN=0 to let the scheduler
  # place them): with three busy processes on two CPUs, where the scheduler puts them moves
  # a run's figures more than a filter does.
  gateway_pin=()
  if [[ ${FILTER_PIN:-1} != 0 && $(nproc) -ge 2 ]] && command -v taskset >/dev/null; then
    gateway_pin=(taskset -c 0)
    load_pin=(taskset -c 1)
  fi
  "${load_pin[@]}" "$bin/petstore-backend" --port 7796 >/dev/null 2>&1 & pids+=($!)
  "${gateway_pin[@]}" "$gateway" --config-dir "$work/filters" --host 127.0.0.1 --port 7797 --log-level warning --no-watch >/dev/null 2>&1 & pids+=($!)
  gateway_pid=$!
  # cpu_ns PID: the CPU time of all the process's threads so far, in nanoseconds (schedstat:
  # finer than the 10 ms ticks of /proc/PID/stat, which make a 2 s run's figure move by 2%).
  cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{s += $1} END {printf "%.0f\n", s}'; }
  mark_cpu() { cpu_ns "$gateway_pid" > "$work/cpu-mark"; }
  sleep 3
  meta='"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"curl","version":"1"}}'
  # size LABEL PATH METHOD NAME PARAMS: the bytes of one modern answer, as a JSON line.
  size() {
    local bytes
    bytes=$(curl -s -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2026-07-28' \
      -H "Mcp-Method: $3" ${4:+-H "Mcp-Name: $4"} -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$3\",\"params\":{$5$meta}}" "http://127.0.0.1:7797$2" | wc -c)
    echo "{\"benchmark\":\"answerSize\",\"label\":\"$1\",\"bytes\":$bytes}"
  }
  for plan in plain retained toon; do size "getPetById $plan" "/mcp/$plan" tools/call getPetById '"name":"getPetById","arguments":{"petId":10},'; done
  size "tools/list twilio all" /mcp/twilio-all tools/list "" ""
  size "tools/list twilio reshaped" /mcp/twilio-reshaped tools/list "" ""
  # This machine's throughput drifts by tens of percent within a minute, and its CPU time per
  # call by ±15%: the three variants take turns in short runs, in a rotating order, for
  # FILTER_ROUNDS rounds, and the report compares each filtered run with the unfiltered run of
  # the same round (median ratio, with a bootstrap interval), so drift slower than a round cancels.
  variants=("filter-none /mcp/plain" "filter-retained /mcp/retained" "filter-toon /mcp/toon")
  saved_seconds=$seconds
  seconds=${FILTER_SECONDS:-2}
  for round in $(seq "${FILTER_ROUNDS:-15}"); do
    for c in 1 64; do
      for i in 0 1 2; do
        read -r label path <<< "${variants[$(( (i + round) % 3 ))]}"
        # The gateway's own CPU time per call (wrk and the backend do not count) beside throughput.
        line=$(wrk_run "$c" "$label" modern "http://127.0.0.1:7797$path" mark_cpu)
        before=$(cat "$work/cpu-mark")
        after=$(cpu_ns "$gateway_pid")
        echo "${line%\}},\"round\":$round}"
        calls=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["calls"])' "$line")
        echo "{\"benchmark\":\"filterCPU\",\"label\":\"$label\",\"concurrency\":$c,\"round\":$round,\"cpuUsPerCall\":$(( (after - before) / 1000 / (calls > 0 ? calls : 1) ))}"
      done
    done
  done
  seconds=$saved_seconds
  "$bin/filter-bench" --corpus "$corpus" --fixtures "$root/../shared/corpus/toon/fixtures/encode"
fi

if [[ $what == scale || $what == all ]]; then
  "$bin/scale-bench" --gateway "$gateway" --corpus "$corpus"
fi

if [[ $what == bigspec || $what == all ]]; then
  # big_spec.py needs PyYAML (pip install pyyaml) for the corpus's YAML descriptions.
  # 1.45 copies of the corpus make 10.7 MB (1,383 operations), 2 copies 13.5 MB (1,736).
  for variant in single:1.45 single:2 split:2; do
    layout=${variant%%:*}
    copies=${variant#*:}
    rm -rf "$work/big-$layout"
    mkdir -p "$work/big-$layout/api"
    split_flag=()
    if [[ $layout == split ]]; then split_flag=(--split); fi
    python3 "$here/big_spec.py" "$corpus" "$work/big-$layout/api/openapi.json" "$copies" "${split_flag[@]}" 2>/dev/null
    printf '%s\n' 'apiVersion: reshapr.io/v1' 'kind: Service' 'metadata: {name: big}' \
      'spec: {version: "1", type: REST, artifacts: [{type: OPENAPI, path: api/openapi.json}]}' '---' \
      'apiVersion: reshapr.io/v1' 'kind: ConfigurationPlan' 'metadata: {name: big}' 'spec: {service: {name: big, version: "1"}, backend: {mock: true}}' '---' \
      'apiVersion: reshapr.io/v1' 'kind: Exposition' 'metadata: {name: big}' 'spec: {plan: big, path: /mcp/big}' > "$work/big-$layout/all.yaml"
    bytes=$(du -cb "$work/big-$layout/api" | tail -1 | cut -f1)
    files=$(find "$work/big-$layout/api" -type f | wc -l)
    for run in 1 2 3 4 5; do
      started=$(date +%s%N)
      "$gateway" --config-dir "$work/big-$layout" --host 127.0.0.1 --port 7798 --log-level warning --no-watch >/dev/null 2>&1 &
      big_pid=$!
      for _ in $(seq 6000); do curl -sf -o /dev/null http://127.0.0.1:7798/health/ready && break; sleep 0.01; done
      ready_ms=$(( ($(date +%s%N) - started) / 1000000 ))
      tools=$(curl -s http://127.0.0.1:7798/status | python3 -c 'import json,sys; print(sum(e["tools"] for e in json.load(sys.stdin)["endpoints"]))')
      rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$big_pid/status")
      kill "$big_pid"; wait "$big_pid" 2>/dev/null || true
      echo "{\"benchmark\":\"bigSpec\",\"layout\":\"$layout\",\"bytes\":$bytes,\"files\":$files,\"tools\":$tools,\"readyMs\":$ready_ms,\"rssMB\":$(( rss_kb / 1024 ))}"
    done
  done
fi

if [[ $what == reload || $what == all ]]; then
  "$bin/reload-bench" --gateway "$gateway" --samples "$root/samples" --changes 100 --load-clients 4
fi

if [[ $what == sync || $what == all ]]; then
  "$bin/sync-bench" --bin "$root/.build/release" --samples "$root/samples" --changes 50
fi

if [[ $what == syncload || $what == all ]]; then
  # Each sync holds a connection: the load tool needs a file descriptor per gateway.
  ulimit -n 65536 2>/dev/null || true
  store=()
  if [[ ${SYNC_POSTGRES:-0} == 1 ]]; then
    pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    [[ -x $pgbin/initdb ]] || { echo "SYNC_POSTGRES=1 needs PostgreSQL: apt-get install postgresql" >&2; exit 1; }
    as_pg=()
    if [[ $(id -u) == 0 ]]; then chown postgres "$work"; as_pg=(setpriv --reuid=postgres --regid=postgres --init-groups); fi
    "${as_pg[@]}" "$pgbin/initdb" -D "$work/pg" -U postgres --auth=trust --no-sync > /dev/null
    pgport=5597
    "${as_pg[@]}" "$pgbin/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w \
      -o "-p $pgport -k $work -c listen_addresses=127.0.0.1 -c max_connections=200" start > /dev/null
    trap '"${as_pg[@]}" "$pgbin/pg_ctl" -D "$work/pg" -m fast stop > /dev/null 2>&1 || true; for p in "${pids[@]:-}"; do if [[ -n $p ]]; then kill "$p" 2>/dev/null || true; fi; done' EXIT
    "$pgbin/psql" -h 127.0.0.1 -p $pgport -U postgres -qc "CREATE DATABASE bench"
    store=(--database "postgres://postgres@127.0.0.1:$pgport/bench?sslmode=disable" --replicas "${SYNC_REPLICAS:-1}")
  fi
  "$bin/sync-load" --bin "$root/.build/release" --samples "$root/samples" --gateways "${SYNC_GATEWAYS:-1000}" --changes 10 \
    --connect-concurrency "${SYNC_CONNECT:-0}" "${store[@]}" --per-connection "${SYNC_PER_CONNECTION:-1}" \
    $([[ ${SYNC_REGISTER_ONLY:-0} == 1 ]] && echo --register-only)
  # Stopped here, not only by the trap: the server inherited the pipe to tee below, which would
  # wait for it forever.
  if [[ ${SYNC_POSTGRES:-0} == 1 ]]; then "${as_pg[@]}" "$pgbin/pg_ctl" -D "$work/pg" -m fast stop > /dev/null; fi
fi
} > >(tee "$work/lines.jsonl")
# The group above runs in this shell (not a pipeline's subshell), so the EXIT trap stops every
# server it started. Stop them now, and let tee finish, before the report.
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
wait
python3 "$here/report.py" "$here/results.json" < "$work/lines.jsonl"
rm -rf "$work"
