#!/usr/bin/env bash
# The live app scales to the output: under Xvfb at 1280×720, 1920×1080 and 3840×2160 the real
# app (winit, software renderer, embedded simulator) is driven by keys through Start →
# Identify → Waiting → Signed in, and on every screen:
#   1. the window's logical size is 1920×1080 (the scale factor is min(w/1920, h/1080));
#   2. the focused element's bounds (the app's debug line "focus bounds", logical pixels) lie
#      inside the window's 5 % safe area, and the focus ring's colour is on screen there;
#   3. from the screenshot alone: nothing but the background colour is drawn in the outer 5 %
#      of any edge (the safe area TVs may overscan).
# Screenshots go to ${OUT:-/tmp/tv-scale}/<W>x<H>-<screen>.png; look at them.
#
# Usage: tests/e2e/tv-scale.sh [BINARY]   (default target/debug/mitid-flex-tv)
# Needs: xvfb xdotool x11-utils imagemagick curl python3. About 20 s per size.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BIN=${1:-target/debug/mitid-flex-tv}
OUT=${OUT:-/tmp/tv-scale}
DISPLAY_NUM=${DISPLAY_NUM:-:94}
SIZES=${SIZES:-"1280x720 1920x1080 3840x2160"}
BACKGROUND=${BACKGROUND:-0A1A2F}   # Theme.background
RING=${RING:-8FC0FF}               # Theme.focus-ring
rm -rf "$OUT"; mkdir -p "$OUT"

XVFB= APP=
cleanup() {
  [ -n "$APP" ] && kill "$APP" 2>/dev/null
  [ -n "$XVFB" ] && kill "$XVFB" 2>/dev/null
  true
}
trap cleanup EXIT
fail() { echo "FAIL [$size]: $*" >&2; echo "--- app log (tail)" >&2; tail -20 "$LOG" >&2 || true; exit 1; }
pass() { echo "ok [$size]: $*"; }
plain() { sed 's/\x1b\[[0-9;]*m//g' "$LOG"; }
screens_seen() { plain | grep -c -- "screen=$1" || true; }
wait_screen() { wait_for 20 "screen $1" bash -c "[ \$(sed 's/\x1b\[[0-9;]*m//g' '$LOG' | grep -c -- 'screen=$1' || true) -ge 1 ]"; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }

# check NAME: screenshot, focus bounds, safe-area margins.
check() {
  local name=$1 shot="$OUT/$size-$1.png"
  sleep 0.8
  import -window root "$shot"
  local line; line=$(plain | grep 'focus bounds' | tail -1)
  [ -n "$line" ] || fail "$name: no 'focus bounds' line in the log"
  local x y w h ww wh sc in
  x=$(field x <<<"$line"); y=$(field y <<<"$line"); w=$(field width <<<"$line"); h=$(field height <<<"$line")
  ww=$(field window_width <<<"$line"); wh=$(field window_height <<<"$line"); sc=$(field scale <<<"$line")
  in=$(field in_safe_area <<<"$line")
  awk -v a="$ww" -v b="$wh" 'BEGIN { exit !(a > 1918 && a < 1922 && b > 1078 && b < 1082) }' \
    || fail "$name: logical window ${ww}x${wh}, not 1920x1080 (scale $sc)"
  awk -v s="$sc" -v e="$want_scale" 'BEGIN { d = s - e; exit !(d < 0.001 && d > -0.001) }' \
    || fail "$name: scale $sc, expected $want_scale"
  [ "$in" = true ] || fail "$name: focus at x=$x y=$y ${w}x$h leaves the safe area of ${ww}x$wh"
  # The ring's left edge, halfway down, in physical pixels: its colour must be there.
  local px py
  px=$(awk -v x="$x" -v s="$sc" 'BEGIN { printf "%d", (x + 3) * s }')
  py=$(awk -v y="$y" -v h="$h" -v s="$sc" 'BEGIN { printf "%d", (y + h / 2) * s }')
  local colour; colour=$(convert "$shot" -crop "1x1+$px+$py" -depth 8 txt:- | grep -o '#[0-9A-F]\{6\}' | head -1)
  [ "$colour" = "#$RING" ] || fail "$name: no focus ring at ($px,$py) (found $colour); see $shot"
  # Outer 5 % of each edge: one colour only, the background.
  local mx my
  mx=$(( W * 5 / 100 )); my=$(( H * 5 / 100 ))
  for geo in "${W}x${my}+0+0" "${W}x${my}+0+$((H - my))" "${mx}x${H}+0+0" "${mx}x${H}+$((W - mx))+0"; do
    local colours
    colours=$(convert "$shot" -crop "$geo" +repage -unique-colors -depth 8 txt:- | grep -o '#[0-9A-F]\{6\}' | sort -u | tr '\n' ' ')
    [ "$colours" = "#$BACKGROUND " ] || fail "$name: drawn in the 5 % margin $geo: $colours; see $shot"
  done
  pass "$name: focus ${w}x$h at ($x,$y) in the safe area, margins clear, scale $sc"
}

for size in $SIZES; do
  W=${size%x*} H=${size#*x}
  want_scale=$(awk -v w="$W" -v h="$H" 'BEGIN { a = w / 1920; b = h / 1080; print (a < b ? a : b) }')
  LOG="$OUT/$size.log"
  start_xvfb "$DISPLAY_NUM" "${W}x${H}"
  home="$OUT/home-$size"; mkdir -p "$home"
  HOME="$home" XDG_CONFIG_HOME="$home/config" XDG_DATA_HOME="$home/data" \
    MITID_FLEX_TV_CONFIG=/dev/null LANG=da_DK.UTF-8 RUST_LOG=info,mitid_flex_tv::ui::scale=debug \
    "$BIN" >"$OUT/$size.out" 2>"$LOG" &
  APP=$!
  wait_for 30 "the simulated phone URL in the log" grep -q 'phone=http' "$LOG"
  base=$(plain | grep -o 'phone=http[^ ]*' | head -1 | cut -d= -f2)
  base=${base%/phone}
  wait_for 15 "the window" xdotool search --name '^MitID$'
  win=$(xdotool search --name '^MitID$' | head -1)
  # No window manager: the window is made the screen's size as a WM's fullscreen would,
  # which is also a resize the app must follow.
  xdotool windowmove "$win" 0 0 windowsize "$win" "$W" "$H"
  xdotool windowfocus --sync "$win"
  wait_for 10 "the window at ${W}x$H" bash -c "xwininfo -id $win | grep -q 'Width: $W' && xwininfo -id $win | grep -q 'Height: $H'"
  key() { xdotool key --delay 80 "$@"; sleep 0.4; }

  check start
  key Return
  wait_screen Identify
  key i l e y a
  check identify
  key Return
  wait_for 15 "the Waiting screen" grep -q 'waiting for approval' "$LOG"
  check waiting
  id=$(curl -fsS "$base/_sim/requests" | python3 -c "import json,sys; r=[x for x in json.load(sys.stdin) if x['status']=='pending']; print(r[-1]['auth_req_id'] if r else '')")
  [ -n "$id" ] || fail "no pending request at the simulator"
  curl -fsS -X POST "$base/_sim/approve/$id" >/dev/null
  wait_screen SignedIn
  check signed-in

  kill "$APP"; wait "$APP" 2>/dev/null || true; APP=
  kill "$XVFB"; wait "$XVFB" 2>/dev/null || true; XVFB=
done
echo "scaling checks passed at $SIZES; screenshots in $OUT"
