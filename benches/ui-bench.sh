#!/usr/bin/env bash
# UI benchmark at 1920×1080 under Xvfb with the software renderer:
#   1. exec → first frame (median of RUNS), seen from outside: benches/first-frame.c polls the
#      screen every 1 ms for the focused button's white fill;
#   2. peak RSS (VmHWM) on the waiting screen;
#   3. CPU use on the waiting screen over 30 s (utime+stime from /proc), for the whole process
#      and for its main thread alone (the UI: Slint's event loop and the software renderer;
#      the rest is HTTP polling and, here, the embedded simulator answering it);
#   4. key press → frame presented on Start (benches/key-frame.c: an XTest key press, then
#      the focused button's fill polled every 0.2 ms until it changes; median of KEYS);
#   5. stripped binary size.
# The app runs against its embedded simulator; the waiting screen is reached with xdotool.
#
# Usage: benches/ui-bench.sh [BINARY [ARGS…]]   (default: target/release/mitid-flex-tv)
# Env: RUNS (default 5), CPU_SECS (default 30), KEYS (default 41), DISPLAY_NUM (default :96).
# Needs: xvfb xdotool x11-utils imagemagick libx11-dev (and libxtst6, which xdotool brings).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/mitid-flex-tv}
shift || true
RUNS=${RUNS:-5}
CPU_SECS=${CPU_SECS:-30}
KEYS=${KEYS:-41}
DISPLAY_NUM=${DISPLAY_NUM:-:96}
WORK=$(mktemp -d)
# The focused "Log på med MitID" button's fill on Start at 1920×1080.
PROBE_X=200 PROBE_Y=440 PROBE_RGB=ffffff
# Inside the "Scan QR-kode" button next to it, above its label: white when focused.
KEY_X=700 KEY_Y=405

cc -O2 -o "$WORK/first-frame" benches/first-frame.c -lX11
cc -O2 -o "$WORK/key-frame" benches/key-frame.c -lX11 -l:libXtst.so.6

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

win=$(xdotool search --name '^MitID$' | head -1)
xdotool windowfocus --sync "$win"
sleep 1
# Key → frame on Start: Right focuses "Scan QR-kode", Left moves back; an odd count of
# presses ends on Right, so one Left returns focus to "Log på med MitID".
"$WORK/key-frame" $KEY_X $KEY_Y Right Left "$KEYS" >"$WORK/keys"
xdotool key Left
sleep 0.5
key_median=$(awk '/^median/ {print $2}' "$WORK/keys")
key_max=$(awk '/^median/ {print $4}' "$WORK/keys")

# To the waiting screen: Log på → type a test user → Fortsæt.
xdotool key --delay 100 Return i l e y a Return
sleep 3
import -window root "$WORK/waiting.png"
ticks=$(getconf CLK_TCK)
# Whole process: utime+stime (fields 14, 15 of stat, in clock ticks; they include threads
# that have exited). Main thread: the first field of its schedstat, in nanoseconds, since a
# clock tick (10 ms) is too coarse for a few hundredths of a percent.
cpu() { awk '{print ($14 + $15) / '"$ticks"' * 1e9}' "/proc/$APP/stat"; }
ui() { awk '{print $1}' "/proc/$APP/task/$APP/schedstat"; }
c0=$(cpu); m0=$(ui); t0=$(date +%s.%N)
sleep "$CPU_SECS"
c1=$(cpu); m1=$(ui); t1=$(date +%s.%N)
pct() { echo "$1 $2 $t0 $t1" | awk '{printf "%.3f", 100 * ($2 - $1) / 1e9 / ($4 - $3)}'; }
cpu_pct=$(pct "$c0" "$c1")
ui_pct=$(pct "$m0" "$m1")
rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$APP/status")

strip -o "$WORK/stripped" "$BIN"
size=$(stat -c %s "$WORK/stripped")

printf '%-34s %12s %12s\n' "measure (1920x1080, Xvfb, software)" "measured" "budget"
printf '%-34s %9s ms %9s ms   (runs: %s)\n' "exec -> first frame (median)" "$first_frame" 50 "${times[*]}"
printf '%-34s %9.1f MB %9s MB\n' "peak RSS on waiting" "$(echo "$rss_kb" | awk '{print $1/1024}')" 30
printf '%-34s %10s %% %10s %%   (one clock tick = %s %%)\n' "CPU on waiting over ${CPU_SECS} s" "$cpu_pct" 0.2 \
    "$(awk -v t="$ticks" -v s="$CPU_SECS" 'BEGIN { printf "%.3f", 100 / t / s }')"
printf '%-34s %10s %% %10s %%\n' "  of which the UI thread" "$ui_pct" 0.05
printf '%-34s %9s ms %9s ms   (max %s ms, %s presses)\n' "key press -> frame (median)" "$key_median" 16 "$key_max" "$KEYS"
printf '%-34s %9.1f MB %9s MB   (decimal; the desktop build: the kiosk is measured on its .deb, 12 MB)\n' "stripped binary" "$(echo "$size" | awk '{print $1/1000000}')" 15
