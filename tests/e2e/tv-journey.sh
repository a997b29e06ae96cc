#!/usr/bin/env bash
# End-to-end, from outside, as a viewer with a remote would: the real app in a real X window
# (Xvfb), driven only by key presses (xdotool), against its embedded simulator.
#
#   1. From a cold start, "ileya" by multi-tap on the number keys (the first typing in this
#      app: a letter key from a real keyboard would turn multi-tap off) in at most 15 presses
#      counted from the keys sent → Waiting shows exactly the reference text the simulated
#      phone shows → approve → Signed in → Log ud → Start.
#   2. Back while Waiting cancels the request at the simulator, once.
#   3. "Husk mig på dette TV", then the tile signs in with two key presses.
#   4. The QR on screen decodes (zbarimg) to the simulator's authentication_uri;
#      approving that URL in headless Chromium signs the TV in.
#   5. A second app with `[ui] start_qr = true`: one press from a cold start makes Start's own
#      QR code, and it decodes to that simulator's authorize URL.
#
# About 45 s on a 2-core machine (debug build), most of it waiting for screens.
# Usage: tests/e2e/tv-journey.sh [BINARY]   (default target/debug/mitid-flex-tv)
# Needs: xvfb xdotool x11-utils imagemagick zbar-tools curl python3 node chromium, and
# `npm ci --prefix tests/browser`. Screenshots and the app log go to ${OUT:-/tmp/tv-journey}.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BIN=${1:-target/debug/mitid-flex-tv}
OUT=${OUT:-/tmp/tv-journey}
DISPLAY_NUM=${DISPLAY_NUM:-:93}
rm -rf "$OUT"; mkdir -p "$OUT/home"
LOG="$OUT/app.log"

fail() { echo "FAIL: $*" >&2; echo "--- app log (tail)" >&2; tail -20 "$LOG" >&2 || true; exit 1; }
pass() { echo "ok: $*"; }

start_xvfb "$DISPLAY_NUM" 1920x1080
APP=
cleanup() { [ -n "$APP" ] && kill "$APP" 2>/dev/null; kill "$XVFB" 2>/dev/null; true; }
trap cleanup EXIT
STARTED=$(date +%s)

# launch HOME_DIR CONFIG: the app with a private home (a fresh viewer store and simulator
# key) and no machine config.
launch() {
  mkdir -p "$1"
  HOME="$1" XDG_CONFIG_HOME="$1/config" XDG_DATA_HOME="$1/data" \
    MITID_FLEX_TV_CONFIG="$2" LANG=da_DK.UTF-8 RUST_LOG=info \
    "$BIN" >"$OUT/app.out" 2>"$LOG" &
  APP=$!
}
launch "$OUT/home" /dev/null

count() { grep -c -- "$1" "$LOG" || true; }
screens_seen() { count "screen=$1"; }
wait_screen() { # wait_screen NAME N: until NAME was shown at least N times
  wait_for 15 "screen $1 (#$2)" bash -c "[ \$(grep -c -- 'screen=$1' '$LOG' || true) -ge $2 ]"
}

# up: waits for the app's simulator and window; sets $base.
up() {
  wait_for 30 "the simulated phone URL in the log" grep -q 'phone=http' "$LOG"
  phone=$(grep -o 'phone=http[^ ]*' "$LOG" | head -1 | cut -d= -f2 | sed 's/\x1b\[[0-9;]*m//g')
  base=${phone%/phone}
  wait_for 15 "the window" xdotool search --name '^MitID$'
  win=$(xdotool search --name '^MitID$' | head -1)
  xdotool windowfocus --sync "$win"
  sleep 0.5
}
up
key() { xdotool key --delay 80 "$@"; sleep 0.4; }
# Every key a viewer presses in a counted journey goes through here.
PRESSES=0
press() { PRESSES=$((PRESSES + $#)); xdotool key --delay 120 "$@"; sleep 0.4; }
shot() { import -window root "$OUT/$1.png"; }
requests() { curl -fsS "$base/_sim/requests"; }
pending_field() { requests | python3 -c "import json,sys; r=[x for x in json.load(sys.stdin) if x['status']=='pending']; print(r[-1]['$1'] if r else '')"; }

# 1 ─ the journey by keys: "ileya" by multi-tap, i = 444, l = 555, e = 33, y = 999, a = 2.
# Each letter's key differs from the one before, so the next key commits it and no press
# waits for the timeout (1.2 s; presses here are 120 ms apart). The first digit on Start
# opens the field. OK commits the pending "a" and sends.
shot 1-start
press 4 4 4 5 5 5 3 3 9 9 9 2
wait_screen Identify 1
shot 2-identify-pending-a
press Return
wait_for 15 "a pending request" bash -c "[ -n \"\$(curl -fsS $base/_sim/requests | python3 -c \"import json,sys; print(''.join(x['auth_req_id'] for x in json.load(sys.stdin) if x['status']=='pending'))\")\" ]"
wait_for 10 "the Waiting screen" grep -q 'waiting for approval' "$LOG"
shot 3-waiting
on_tv=$(grep 'waiting for approval' "$LOG" | tail -1 | sed 's/\x1b\[[0-9;]*m//g' | sed -n 's/.*reference_text=\(.*\) waiting for approval.*/\1/p;s/.*waiting for approval reference_text=\(.*\)$/\1/p' | head -1)
at_phone=$(pending_field reference_text)
[ -n "$at_phone" ] || fail "no reference text at the simulator"
[ "$on_tv" = "$at_phone" ] || fail "TV shows '$on_tv', phone shows '$at_phone'"
pass "Waiting shows exactly the phone's reference text: $at_phone"
who=$(pending_field identity)
[ "$who" = "ileya" ] || fail "multi-tap sent '$who', not 'ileya'"
[ "$PRESSES" -le 15 ] || fail "ileya took $PRESSES presses (> 15)"
pass "\"ileya\" by multi-tap from a cold start: $PRESSES presses including OK (≤ 15)"
id=$(pending_field auth_req_id)
curl -fsS -X POST "$base/_sim/approve/$id" >/dev/null
wait_screen SignedIn 1
shot 4-signed-in
pass "approved on the phone → Signed in"
key Right Right Return            # Vis detaljer → Husk mig → Log ud
wait_screen Start 2
shot 5-start-again
pass "Log ud → Start"

# 2 ─ Back while waiting cancels at the broker
key Return
wait_screen Identify 2
key i l e y a Return
wait_for 15 "the second request" bash -c "[ \$(grep -c 'waiting for approval' '$LOG') -ge 2 ]"
id2=$(pending_field auth_req_id)
[ -n "$id2" ] || fail "no second pending request"
key Escape
wait_for 10 "the cancel at the simulator" bash -c "curl -fsS $base/_sim/requests | python3 -c \"import json,sys; r=[x for x in json.load(sys.stdin) if x['auth_req_id']=='$id2'][0]; sys.exit(0 if r['cancelled'] and r['cancels']==1 else 1)\""
shot 6-after-back
pass "Back while Waiting → DELETE reached the simulator exactly once"
key Escape                        # Identify → Start
wait_screen Start 3

# 3 ─ remember me, then the tile
key Return
wait_screen Identify 3
key i l e y a Return
wait_for 15 "the third request" bash -c "[ \$(grep -c 'waiting for approval' '$LOG') -ge 3 ]"
curl -fsS -X POST "$base/_sim/approve/$(pending_field auth_req_id)" >/dev/null
wait_screen SignedIn 2
key Right Return                  # Husk mig på dette TV (opt-in)
key Right Return                  # Log ud
wait_screen Start 4
sleep 0.5
shot 7-start-with-tile
before=$(grep -c 'waiting for approval' "$LOG")
xdotool key Return                # one key press: focus starts on the last-used viewer
wait_for 15 "a request from the tile" bash -c "[ \$(grep -c 'waiting for approval' '$LOG') -gt $before ]"
who=$(pending_field identity)
[ "$who" = "ileya" ] || fail "the tile's request is for '$who'"
curl -fsS -X POST "$base/_sim/approve/$(pending_field auth_req_id)" >/dev/null
wait_screen SignedIn 3
pass "remembered viewer: 1 press (OK) + approval → Signed in"
key Right Right Return            # Log ud (remember is already on)
wait_screen Start 5

# 4 ─ QR: decode from the screen, approve in Chromium
key Up Up Right Return            # from the last-used tile, past "Rediger", to "Scan QR-kode med din telefon"
wait_screen Qr 1
sleep 1.5
shot 8-qr
uri=$(zbarimg -q --raw "$OUT/8-qr.png" | grep '/connect/authorize' | head -1 || true)
[ -n "$uri" ] || fail "no authentication_uri QR code decoded from the screen"
case "$uri" in "$base/op/connect/authorize?"*request_uri=*) ;; *) fail "decoded '$uri'";; esac
pass "QR on screen decodes to $uri"
node tests/browser/authorize.mjs "$uri" mette approve >"$OUT/authorize.json" || fail "Chromium could not approve"
wait_screen SignedIn 4
shot 9-signed-in-by-qr
grep -q '"status":"collected"' <(requests) || fail "no collected request"
pass "approved in headless Chromium → the TV is signed in"

# 5 ─ Start's own QR code: a second app with `[ui] start_qr = true`, one press from cold
kill "$APP"; wait "$APP" 2>/dev/null || true
wait_for 10 "the first window to close" bash -c "! xdotool search --name '^MitID$'"
printf '[ui]\nstart_qr = true\n' >"$OUT/start-qr.toml"
LOG="$OUT/app-start-qr.log"
launch "$OUT/home-start-qr" "$OUT/start-qr.toml"
up
shot 10-start-qr-offer
PRESSES=0
press Return                      # focus starts on "Vis QR-kode": no viewer, no typing
decoded() { # the authorize URL in a QR code on screen, if any
  shot 11-start-qr
  zbarimg -q --raw "$OUT/11-start-qr.png" 2>/dev/null | grep '/connect/authorize' | head -1
}
qr_shown() { [ -n "$(decoded)" ]; }
wait_for 15 "a QR code on Start" qr_shown
uri=$(decoded || true)
[ -n "$uri" ] || fail "no authorize QR code decoded from Start"
case "$uri" in "$base/op/connect/authorize?"*request_uri=*) ;; *) fail "Start's QR decoded to '$uri'";; esac
[ "$PRESSES" -eq 1 ] || fail "the QR took $PRESSES presses"
grep -q 'screen=Qr' "$LOG" && fail "a separate QR screen was shown; Start should show the code"
pass "start_qr: $PRESSES press makes Start's QR code, decoding to $uri"
echo "all end-to-end checks passed in $(( $(date +%s) - STARTED )) s; screenshots in $OUT"
