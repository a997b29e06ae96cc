#!/usr/bin/env bash
# Relay load test: 2 mitid-flex-relay instances sharing only a throw-away redis-server,
# RELAY_LOAD_BOXES boxes (200, each with its own certificate) doing RELAY_LOAD_SIGNINS
# sign-ins (2000) against the simulator with auto-approval. Two runs:
#  1. crash: as fast as the boxes go, instance A SIGKILLed after 40 % of the sign-ins.
#     Fails unless every sign-in succeeds (0 lost), the backend hears of each exactly once
#     (0 duplicated, 0 missing); prints how many were re-pushed. Its latency is queueing on
#     a saturated machine and is printed only.
#  2. latency: RELAY_LOAD_RATE sign-ins/s offered (100), no kill. Fails unless the p99 of
#     the relay-added latency is within 20 ms (RELAY_LOAD_LATENCY=report: printed only).
# Relay-added = what the box measured for a call on an open connection, minus the time the
# relay says (Server-Timing) it waited for the broker.
#
# Bounded: each run stops starting sign-ins after RELAY_LOAD_DEADLINE_SECS (150).
# RELAY_LOAD_PROFILE=debug (CI) builds with the test profile (about 2 minutes with the build,
# runs about 20 + 25 s); the default is the bench profile (10-25 minutes to build the first
# time on 2 cores). RELAY_LOAD_RELAY_BIN runs another build of the relay (for instance the
# release binary packaging/relay/build-deb.sh makes) with this bench's boxes and simulator.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v redis-server >/dev/null || { echo "relay-load: redis-server missing (.ci/system-deps test)" >&2; exit 2; }
t0=$(date +%s)
run() {
    if [ "${RELAY_LOAD_PROFILE:-bench}" = debug ]; then
        nice -n 10 cargo test --locked --features relay --bench relay_load -j 2
    else
        nice -n 10 cargo bench --locked --features relay --bench relay_load -j 2
    fi
}
echo "== relay load 1/2: crash (instance A SIGKILLed at 40 %)"
RELAY_LOAD_RATE=0 RELAY_LOAD_KILL_AT="${RELAY_LOAD_KILL_AT:-0.4}" RELAY_LOAD_SIGNAL=kill \
    RELAY_LOAD_LATENCY=report run
echo "== relay load 2/2: latency at ${RELAY_LOAD_RATE:-100} sign-ins/s, no kill"
RELAY_LOAD_RATE="${RELAY_LOAD_RATE:-100}" RELAY_LOAD_KILL_AT=0 run
echo "relay-load: $(( $(date +%s) - t0 )) s including the build"
