#!/usr/bin/env bash
# End-to-end, from outside: with `[ui] speech = true` the waiting screen speaks its code.
#
# The real app in a real X window (Xvfb), driven by key presses (xdotool), against its
# embedded simulator. An `espeak-ng` first on PATH stands in for the synthesiser: it appends
# each utterance (arguments and stdin) to a log, then has the real espeak-ng write it to a WAV
# file (`-w`; there is no sound card here). The script
#   1. checks that Start is spoken and that INFO's key (F5) turns speech off and on;
#   2. drives Start → Identify → "ileya" → Waiting, reads the request's code from the
#      simulator's /_sim/requests, and asserts that the log holds "Kode d d d d" for exactly
#      that code, spoken in Danish;
#   3. measures that utterance's WAV with sox: speech of a plausible length for its words;
#   4. starts the app again with no synthesiser on PATH: it logs that once, at info.
#
# Usage: tests/e2e/tv-speech.sh [BINARY]   (default target/debug/mitid-flex-tv)
# Needs: xvfb xdotool x11-utils curl python3 espeak-ng sox. Takes about 6 s (at most ~2 min: every wait is bounded).
# The app log, the utterance log and the WAVs go to ${OUT:-/tmp/tv-speech}.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BIN=${1:-target/debug/mitid-flex-tv}
OUT=${OUT:-/tmp/tv-speech}
DISPLAY_NUM=${DISPLAY_NUM:-:94}
rm -rf "$OUT"; mkdir -p "$OUT/home" "$OUT/bin" "$OUT/wav"
LOG="$OUT/app.log"
SPOKEN="$OUT/spoken.log"
: >"$SPOKEN"

fail() {
  echo "FAIL: $*" >&2
  echo "--- spoken" >&2; cat "$SPOKEN" >&2 || true
  echo "--- app log (tail)" >&2; tail -20 "$LOG" >&2 || true
  exit 1
}
pass() { echo "ok: $*"; }

REAL=$(command -v espeak-ng) || fail "espeak-ng is not installed (.ci/system-deps test)"
command -v sox >/dev/null || fail "sox is not installed (.ci/system-deps test)"

# The stand-in. The app sends the text on stdin (`-v LANG -s WPM --stdin`). One line per
# utterance: its number, the arguments, the text. The WAV is renamed into place only once the
# real espeak-ng has finished, so a present .wav is a whole one.
cat >"$OUT/bin/espeak-ng" <<EOF
#!/usr/bin/env bash
text=\$(cat)
n=\$(date +%s%N)
printf '%s\t%s\t%s\n' "\$n" "\$*" "\$text" >>"$SPOKEN"
"$REAL" "\$@" -w "$OUT/wav/\$n.part" <<<"\$text" && mv "$OUT/wav/\$n.part" "$OUT/wav/\$n.wav"
EOF
chmod +x "$OUT/bin/espeak-ng"

cat >"$OUT/config.toml" <<'EOF'
profile = "simulator"

[ui]
speech = true
EOF

start_xvfb "$DISPLAY_NUM" 1920x1080
APP=
cleanup() { [ -n "$APP" ] && kill "$APP" 2>/dev/null; kill "$XVFB" 2>/dev/null; true; }
trap cleanup EXIT

# A private home and this config; the stand-in first on PATH.
PATH="$OUT/bin:$PATH" HOME="$OUT/home" XDG_CONFIG_HOME="$OUT/home/config" \
  XDG_DATA_HOME="$OUT/home/data" MITID_FLEX_TV_CONFIG="$OUT/config.toml" \
  LANG=da_DK.UTF-8 RUST_LOG=info "$BIN" >"$OUT/app.out" 2>"$LOG" &
APP=$!

plain() { sed 's/\x1b\[[0-9;]*m//g' "$LOG"; }
said() { cut -f3 "$SPOKEN"; }
said_count() { said | grep -c -- "$1" || true; }

wait_for 30 "the simulated phone URL in the log" grep -q 'phone=http' "$LOG"
phone=$(plain | grep -o 'phone=http[^ ]*' | head -1 | cut -d= -f2)
base=${phone%/phone}
plain | grep -q 'backend="\?espeak-ng"\?.*spoken guidance on\|spoken guidance on.*backend="\?espeak-ng' \
  || fail "the app did not log that espeak-ng speaks"
pass "speech = true: the app found espeak-ng (the stand-in on PATH)"

wait_for 15 "the window" xdotool search --name '^MitID$'
win=$(xdotool search --name '^MitID$' | head -1)
xdotool windowfocus --sync "$win"
sleep 0.5
key() { xdotool key --delay 80 "$@"; sleep 0.4; }

# 1 ─ Start is spoken; INFO (F5) turns speech off and on
wait_for 10 "Start spoken" bash -c "cut -f3 '$SPOKEN' | grep -qx 'Log på med MitID'"
grep -q $'\t-v da -s 150 --stdin\t' "$SPOKEN" || fail "not spoken in Danish through stdin"
pass "Start is spoken in Danish: 'Log på med MitID'"
key F5
wait_for 5 "'Oplæsning fra'" bash -c "cut -f3 '$SPOKEN' | grep -qx 'Oplæsning fra'"
lines=$(wc -l <"$SPOKEN")
key Right Left
[ "$(wc -l <"$SPOKEN")" -eq "$lines" ] || fail "spoke while off: $(tail -1 "$SPOKEN")"
key F5
wait_for 5 "'Oplæsning til'" bash -c "cut -f3 '$SPOKEN' | grep -q '^Oplæsning til'"
pass "F5 (the remote's INFO) turns speech off and on on Start; nothing is said while off"

# 2 ─ Waiting speaks the request's code
key Return
key i l e y a Return
wait_for 15 "a pending request" bash -c "curl -fsS '$base/_sim/requests' | grep -q '\"status\":\"pending\"'"
reference=$(curl -fsS "$base/_sim/requests" | python3 -c "import json,sys; r=[x for x in json.load(sys.stdin) if x['status']=='pending']; print(r[-1]['reference_text'])")
code=$(grep -o '[0-9]\{4\}$' <<<"$reference") || fail "no code at the end of '$reference'"
spelled="Kode $(sed 's/./& /g; s/ $//' <<<"$code")"
wait_for 10 "'$spelled' spoken" bash -c "cut -f3 '$SPOKEN' | grep -q -- '$spelled\$'"
[ "$(said_count "$spelled")" -eq 1 ] || fail "the code was spoken $(said_count "$spelled") times"
line=$(grep -- "$spelled\$" "$SPOKEN")
pass "the phone shows '$reference'; the TV said: $(cut -f3 <<<"$line")"

# 3 ─ the recording is speech, as long as its words need
n=$(cut -f1 <<<"$line")
wav="$OUT/wav/$n.wav"
wait_for 30 "the WAV of the code" test -s "$wav"
stat=$(sox "$wav" -n stat 2>&1)
field() { awk -F: -v k="$1" '$1 ~ "^"k {gsub(/ /, "", $2); print $2}' <<<"$stat"; }
secs=$(field 'Length \\(seconds\\)'); rms=$(field 'RMS +amplitude'); peak=$(field 'Maximum amplitude')
words=$(cut -f3 <<<"$line" | wc -w)
echo "   $words words, $secs s, RMS $rms, peak $peak"
python3 - "$words" "$secs" "$rms" "$peak" <<'EOF' || fail "the WAV is not plausible speech"
import sys
words, secs, rms, peak = int(sys.argv[1]), *map(float, sys.argv[2:])
# 150 words a minute is asked for; allow 80..300 (digits and short words vary), and sound.
lo, hi = words * 60 / 300, words * 60 / 80
ok = lo <= secs <= hi and rms > 0.02 and peak > 0.2
print(f"   plausible: {lo:.1f}..{hi:.1f} s, RMS > 0.02, peak > 0.2: {ok}")
sys.exit(0 if ok else 1)
EOF
pass "the WAV holds $secs s of speech for $words words"

key Escape                        # cancel the request at the simulator
kill "$APP"; wait "$APP" 2>/dev/null || true; APP=

# 4 ─ speech = true on a box without any synthesiser: the log says so once, at info
mkdir -p "$OUT/nobin"
PATH="$OUT/nobin" HOME="$OUT/home" XDG_CONFIG_HOME="$OUT/home/config" \
  XDG_DATA_HOME="$OUT/home/data" MITID_FLEX_TV_CONFIG="$OUT/config.toml" \
  LANG=da_DK.UTF-8 RUST_LOG=info "$BIN" >"$OUT/app-silent.out" 2>"$OUT/app-silent.log" &
APP=$!
wait_for 30 "the silent app's window" xdotool search --name '^MitID$'
wait_for 10 "the 'no synthesiser' line" grep -q 'neither espeak-ng nor spd-say' "$OUT/app-silent.log"
silent=$(sed 's/\x1b\[[0-9;]*m//g' "$OUT/app-silent.log" | grep 'neither espeak-ng nor spd-say')
[ "$(wc -l <<<"$silent")" -eq 1 ] || fail "logged more than once: $silent"
grep -q ' INFO .*backend="\?none' <<<"$silent" || fail "not an info line naming backend none: $silent"
grep -q 'spoken guidance on' "$OUT/app-silent.log" && fail "claims a synthesiser without one"
pass "no espeak-ng or spd-say on PATH: one info line (backend none), no synthesiser started"

echo "all spoken-guidance checks passed; logs and WAVs in $OUT"
