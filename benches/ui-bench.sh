#!/usr/bin/env bash
# UI benchmark at 1920×1080 under Xvfb with the software renderer:
#   1. exec → first frame (median of RUNS), seen from outside: benches/first-frame.c polls the
#      screen every 1 ms for the focused button's white fill;
#   2. peak RSS (VmHWM) on the waiting screen;
#   3. CPU use on the waiting screen over 30 s (utime+stime from /proc);
#   4. stripped binary size.
# The app runs against its embedded simulator; the waiting screen is reached with xdotool.
#
# Usage: benches/ui-bench.sh [BINARY [ARGS…]]   (default: target/release/mitid-flex-tv)
# Env: RUNS (default 5), CPU_SECS (default 30), DISPLAY_NUM (default :96).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/mitid-flex-tv}
shift || true
RUNS=${RUNS:-5}
CPU_SECS=${CPU_SECS:-30}
DISPLAY_NUM=${DISPLAY_NUM:-:96}
WORK=$(mktemp -d)
# The focused "Log på med MitID" button's fill on Start at 1920×1080.
PROBE_X=120 PROBE_Y=395 PROBE_RGB=ffffff

cc -O2 -o "$WORK/first-frame" benches/first-frame.c -lX11

Xvfb "$DISPLAY_NUM" -screen 0 1920x1080x24 -nolisten tcp >/dev/null 2>&1 &
XVFB=$!
APP=
cleanup() { [ -n "$APP" ] && kill "$APP" 2>/dev/null || true; kill "$XVFB" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
export DISPLAY=$DISPLAY_NUM
for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done
# Every run uses the same (warm) simulator key and an empty viewer store.
export XDG_DATA_HOME=$WORK/data XDG_STATE_HOME=$WORK/state
"$BIN" "$@" >/dev/null 2>&1 &
warm=$!
sleep 2
kill "$warm" 2>/dev/null || true
wait "$warm" 2>/dev/null || true

times=()
for i in $(seq "$RUNS"); do
    # To a file, not $(…): the app inherits stdout and would hold a pipe open.
    "$WORK/first-frame" $PROBE_X $PROBE_Y $PROBE_RGB 10000 -- "$BIN" "$@" >"$WORK/ff" 2>>"$WORK/app.log"
    read -r ms pid <"$WORK/ff"
    times+=("$ms")
    if [ "$i" -lt "$RUNS" ]; then kill "$pid"; sleep 0.5; fi
done
APP=$pid
first_frame=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')

# To the waiting screen: Log på → type a test user → Fortsæt.
win=$(xdotool search --name '^MitID$' | head -1)
xdotool windowfocus --sync "$win"
xdotool key --delay 100 Return i l e y a Return
sleep 3
import -window root "$WORK/waiting.png"
ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$APP/stat"; }
c0=$(cpu); t0=$(date +%s.%N)
sleep "$CPU_SECS"
c1=$(cpu); t1=$(date +%s.%N)
cpu_pct=$(echo "$c0 $c1 $t0 $t1 $ticks" | awk '{printf "%.3f", 100 * ($2 - $1) / $5 / ($4 - $3)}')
rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$APP/status")

strip -o "$WORK/stripped" "$BIN"
size=$(stat -c %s "$WORK/stripped")

printf '%-34s %12s %12s\n' "measure (1920x1080, Xvfb, software)" "measured" "budget"
printf '%-34s %9s ms %9s ms   (runs: %s)\n' "exec -> first frame (median)" "$first_frame" 50 "${times[*]}"
printf '%-34s %9.1f MB %9s MB\n' "peak RSS on waiting" "$(echo "$rss_kb" | awk '{print $1/1024}')" 30
printf '%-34s %10s %% %10s %%\n' "CPU on waiting over ${CPU_SECS} s" "$cpu_pct" 0.2
printf '%-34s %9.1f MB %9s MB   (decimal)\n' "stripped binary" "$(echo "$size" | awk '{print $1/1000000}')" 12
