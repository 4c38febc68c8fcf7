#!/usr/bin/env bash
# Fuzzes the parsers, compilers and handlers of reshapr with libFuzzer and AddressSanitizer.
#
#   Fuzz/run.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default 30); TARGETs among json config openapi graphql protobuf
# transcoder mcp sync filters uritemplate (default: all). The corpus grows in .build-fuzz/work/corpus/TARGET and
# is kept between runs; crash inputs land in .build-fuzz/work/crashes/TARGET. The script exits
# non-zero when a target crashed: copy the input into Fuzz/regressions/TARGET/, fix the bug, and
# `swift test --filter FuzzRegressionTests` keeps it fixed.
#
# Environment: RESHAPR_FUZZ_CONFIG=release for a faster fuzzer (a much longer build),
# RESHAPR_CORPUS_ROOT (default ../shared/corpus), RESHAPR_FUZZ_JOBS (parallel targets, default 1).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-30}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=(json config openapi graphql protobuf transcoder mcp sync filters uritemplate); fi
config=${RESHAPR_FUZZ_CONFIG:-debug}
corpus_root=${RESHAPR_CORPUS_ROOT:-../shared/corpus}
work=.build-fuzz/work
mkdir -p "$work"

# Seeds: written by the plain build of reshapr-fuzz (its replay mode) from the shared corpus and
# the samples, read where they are.
swift build --product reshapr-fuzz
"$(swift build --show-bin-path)/reshapr-fuzz" --seeds "$work/seeds" "$corpus_root" samples

flags=(--product reshapr-fuzz -c "$config" --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING)
swift build "${flags[@]}"
fuzzer="$(swift build "${flags[@]}" --show-bin-path)/reshapr-fuzz"

summary="$work/summary-$(date -u +%Y%m%dT%H%M%SZ).txt"
failed=0
run_target() {
    local target=$1
    mkdir -p "$work/corpus/$target" "$work/crashes/$target"
    local log="$work/$target.log"
    local status=0
    # SWIFT_BACKTRACE off: the Swift backtracer would symbolize each crash for seconds.
    RESHAPR_FUZZ_TARGET=$target SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 \
        "$fuzzer" "$work/corpus/$target" "$work/seeds/$target" \
        -max_total_time="$seconds" -max_len=65536 -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
        -artifact_prefix="$work/crashes/$target/" >"$log" 2>&1 || status=$?
    local runs
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    if [ "$status" -eq 0 ]; then
        echo "$target: ${seconds}s, $runs inputs, no crash, corpus $(ls "$work/corpus/$target" | wc -l) files" | tee -a "$summary"
    else
        echo "$target: CRASHED after $runs inputs (exit $status); see $log and $work/crashes/$target/" | tee -a "$summary"
        grep -E 'ERROR|Fatal error|SUMMARY|deadly signal' "$log" | head -5 || true
        return 1
    fi
}

jobs=${RESHAPR_FUZZ_JOBS:-1}
pids=()
for target in "${targets[@]}"; do
    if [ "$jobs" -le 1 ]; then
        run_target "$target" || failed=1
    else
        run_target "$target" &
        pids+=($!)
        if [ ${#pids[@]} -ge "$jobs" ]; then
            wait "${pids[0]}" || failed=1
            pids=("${pids[@]:1}")
        fi
    fi
done
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
echo "summary: $summary"
exit $failed
