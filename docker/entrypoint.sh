#!/usr/bin/env bash
# reShapr container entrypoint.
#
#   (no arguments, or gateway flags)   reshapr-gateway on $RESHAPR_CONFIG_DIR; when RESHAPR_CTRL_HOST
#                                      is set, reshapr-sync runs beside it and writes that directory.
#   reshapr-ctrl|reshapr-sync|reshapr|reshapr-gateway ARGS...   runs that program alone.
#
# With the sync, the two processes share the configuration directory; if either stops, the other
# is stopped too and the container exits with the status of the one that stopped first, so that
# a bad token (sync exits 1) fails the container instead of leaving a gateway that serves nothing.
# SIGTERM and SIGINT are passed on to both; the sync then tells the control plane it is leaving.
set -euo pipefail

bin="${RESHAPR_BIN_DIR:-/usr/local/bin}"

case "${1:-}" in
    reshapr-ctrl | reshapr-sync | reshapr | reshapr-gateway)
        program="$1"
        shift
        exec "$bin/$program" "$@"
        ;;
esac

if [[ -z "${RESHAPR_CTRL_HOST:-}" ]]; then
    exec "$bin/reshapr-gateway" serve "$@"
fi

# Synchronized mode: the directory is written by reshapr-sync, so it must be writable; the
# image's read-only samples are not used.
export RESHAPR_CONFIG_DIR="${RESHAPR_SYNC_DIR:-/var/lib/reshapr/config}"
mkdir -p "$RESHAPR_CONFIG_DIR"

"$bin/reshapr-gateway" serve "$@" &
gateway=$!
"$bin/reshapr-sync" &
sync=$!

stopping=0
stop() {
    stopping=1
    kill -TERM "$gateway" "$sync" 2>/dev/null || true
}
trap stop TERM INT

# Wait for the first of the two to stop; a signal interrupts the wait (the trap has run).
first=0
wait -n "$gateway" "$sync" || first=$?
while ((stopping == 0)) && kill -0 "$gateway" 2>/dev/null && kill -0 "$sync" 2>/dev/null; do
    wait -n "$gateway" "$sync" || first=$?
done
if ((stopping == 0)); then
    if kill -0 "$gateway" 2>/dev/null; then who=reshapr-sync; else who=reshapr-gateway; fi
    echo "entrypoint: $who stopped (status $first); stopping the other" >&2
    kill -TERM "$gateway" "$sync" 2>/dev/null || true
fi
gateway_status=0
wait "$gateway" 2>/dev/null || gateway_status=$?
sync_status=0
wait "$sync" 2>/dev/null || sync_status=$?
if ((stopping == 1)); then
    # Asked to stop: success when both stopped cleanly.
    ((gateway_status == 0)) || exit "$gateway_status"
    exit "$sync_status"
fi
exit "$first"
