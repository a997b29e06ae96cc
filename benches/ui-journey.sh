#!/usr/bin/env bash
# The TV journey under Xvfb, driven only by key presses (xdotool), against the embedded
# simulator: Start → Identify → type "ileya" → Waiting (reference text compared with the
# simulator's /_sim/requests, which is what /phone shows) → approve → Signed in → Log ud →
# Start; then a second request that Back cancels (checked at the simulator).
#
# Usage: benches/ui-journey.sh [BINARY [ARGS…]]   (default: target/release/mitid-flex-tv)
# Screenshots go to ${OUT:-/tmp/ui-journey}.
set -euo pipefail
BIN=${1:-target/release/mitid-flex-tv}
shift || true
OUT=${OUT:-/tmp/ui-journey}
DISPLAY_NUM=${DISPLAY_NUM:-:97}
mkdir -p "$OUT"

Xvfb "$DISPLAY_NUM" -screen 0 1920x1080x24 -nolisten tcp >/dev/null 2>&1 &
XVFB=$!
APP=
cleanup() { [ -n "$APP" ] && kill "$APP" 2>/dev/null; kill "$XVFB" 2>/dev/null; }
trap cleanup EXIT
export DISPLAY=$DISPLAY_NUM
for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done

RUST_LOG=info "$BIN" "$@" 2>"$OUT/app.log" &
APP=$!
phone=
for _ in $(seq 100); do
    phone=$(grep -o 'phone=http[^ ]*' "$OUT/app.log" | head -1 | cut -d= -f2 || true)
    [ -n "$phone" ] && break
    sleep 0.1
done
[ -n "$phone" ] || { echo "no simulator phone URL in the log"; exit 1; }
base=${phone%/phone}
sleep 1
# No window manager: give the window the keyboard focus ourselves.
win=$(xdotool search --name '^MitID$' | head -1)
xdotool windowfocus --sync "$win"
key() { xdotool key --delay 120 "$@"; sleep 0.3; }
shot() { import -window root "$OUT/$1.png"; }
requests() { curl -s "$base/_sim/requests"; }

shot 1-start
key Return                      # Log på med MitID
key i l e y a                   # a keyboard types straight into the field
shot 2-identify
key Return                      # focus is on Fortsæt after typing
sleep 1.5
shot 3-waiting
json=$(requests)
echo "simulator requests: $json"
id=$(printf '%s' "$json" | python3 -c 'import json,sys; r=[x for x in json.load(sys.stdin) if x.get("status")=="pending"]; print(r[-1]["auth_req_id"])')
ref=$(printf '%s' "$json" | python3 -c 'import json,sys; r=[x for x in json.load(sys.stdin) if x.get("status")=="pending"]; print(r[-1].get("reference_text",""))')
echo "reference text at the simulator: $ref"
curl -s -X POST "$base/_sim/approve/$id" >/dev/null
sleep 3
shot 4-signed-in
key Right Right                 # Vis detaljer → Husk mig → Log ud
key Return
shot 5-back-at-start

key Return i l e y a Return     # a second request …
sleep 1.5
key Escape                      # … that Back cancels
sleep 1.5
shot 6-after-back
echo "after Back: $(requests)"
