#!/usr/bin/env bash
# The TV app stopped as systemd stops the kiosk, from outside: under Xvfb against its embedded
# simulator, with a request pending on Waiting, SIGTERM (and then SIGINT, on a second request)
# must cancel the request at the broker exactly once and exit 130 within 1 s, without a panic.
# The same on Start, with nothing pending: exit 130, nothing cancelled.
#
# Usage: tests/e2e/tv-signal.sh [BINARY]   (default target/debug/mitid-flex-tv)
# Needs: xvfb xdotool x11-utils curl python3. Logs go to ${OUT:-/tmp/tv-signal}.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BIN=${1:-target/debug/mitid-flex-tv}
OUT=${OUT:-/tmp/tv-signal}
DISPLAY_NUM=${DISPLAY_NUM:-:92}
rm -rf "$OUT"; mkdir -p "$OUT/home"

fail() { echo "FAIL: $*" >&2; echo "--- app log (tail)" >&2; tail -20 "$LOG" >&2 || true; exit 1; }
pass() { echo "ok: $*"; }

start_xvfb "$DISPLAY_NUM" 1920x1080
APP=
cleanup() { [ -n "$APP" ] && kill -9 "$APP" 2>/dev/null; kill "$XVFB" 2>/dev/null; true; }
trap cleanup EXIT


# start_app NAME: the app with a private home; sets APP, LOG and the simulator's base URL.
start_app() {
  LOG="$OUT/$1.log"
  HOME="$OUT/home" XDG_CONFIG_HOME="$OUT/home/config" XDG_DATA_HOME="$OUT/home/data" \
    XDG_CACHE_HOME="$OUT/home/cache" MITID_FLEX_TV_CONFIG=/dev/null LANG=da_DK.UTF-8 \
    RUST_LOG=info "$BIN" >"$OUT/$1.out" 2>"$LOG" &
  APP=$!
  wait_for 30 "the simulated phone URL in the log" grep -q 'phone=http' "$LOG"
  local phone
  phone=$(grep -o 'phone=http[^ ]*' "$LOG" | head -1 | cut -d= -f2 | sed 's/\x1b\[[0-9;]*m//g')
  base=${phone%/phone}
  wait_for 15 "the window" xdotool search --name '^MitID$'
  xdotool windowfocus --sync "$(xdotool search --name '^MitID$' | head -1)"
  sleep 0.5
}

# stop_app SIGNAL: sends it, waits for the exit; sets CODE and MS (signal to exit).
stop_app() {
  local t0 t1
  t0=$(date +%s%N)
  kill -s "$1" "$APP"
  set +e
  wait "$APP"
  CODE=$?
  set -e
  t1=$(date +%s%N)
  MS=$(((t1 - t0) / 1000000))
  APP=
}

to_waiting() {
  xdotool key --delay 80 Return i l e y a Return
  wait_for 15 "a pending request" bash -c "curl -fsS $base/_sim/requests | python3 -c \"import json,sys; sys.exit(0 if any(x['status']=='pending' for x in json.load(sys.stdin)) else 1)\""
  id=$(curl -fsS "$base/_sim/requests" | python3 -c "import json,sys; print([x for x in json.load(sys.stdin) if x['status']=='pending'][-1]['auth_req_id'])")
}

for sig in TERM INT; do
  start_app "waiting-$sig"
  to_waiting
  # The simulator lives in the app's process and ends with it, so its own log line (in the
  # app's log) is the witness that the cancel reached the broker before the exit.
  stop_app "$sig"
  [ "$CODE" = 130 ] || fail "SIG$sig on Waiting: exit $CODE, want 130"
  [ "$MS" -le 1000 ] || fail "SIG$sig on Waiting: exit after $MS ms, want ≤ 1000"
  ! grep -q "panicked" "$LOG" || fail "SIG$sig on Waiting: the app panicked"
  # The simulator logs a request by the first 4 bytes of its id's SHA-256.
  short=$(python3 -c "import hashlib,sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest()[:8])" "$id")
  n=$(sed 's/\x1b\[[0-9;]*m//g' "$LOG" | grep -c "req=$short.*ciba request cancelled\|ciba request cancelled.*req=$short" || true)
  [ "$n" = 1 ] || fail "SIG$sig on Waiting: the simulator logged $n cancels of the request, want 1"
  pass "SIG$sig on Waiting: request cancelled at the broker once, exit 130 after $MS ms"
done

start_app start-TERM
stop_app TERM
[ "$CODE" = 130 ] || fail "SIGTERM on Start: exit $CODE, want 130"
[ "$MS" -le 1000 ] || fail "SIGTERM on Start: exit after $MS ms"
! grep -q "panicked\|request cancelled" "$LOG" || fail "SIGTERM on Start: a panic or a cancel in the log"
pass "SIGTERM on Start: exit 130 after $MS ms, nothing to cancel"
echo "all signal checks passed; logs in $OUT"
