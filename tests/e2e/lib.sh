# Shared by the scripts in tests/e2e (sourced, never run on its own). Each script defines its
# own `fail` (what it prints with the app's log) before it calls these.

# start_xvfb DISPLAY WxH: a virtual X server of that size; sets XVFB (its pid) and DISPLAY,
# and returns once it answers (or after 10 s, when the app's own wait will say what failed).
start_xvfb() {
  Xvfb "$1" -screen 0 "${2}x24" -nolisten tcp >/dev/null 2>&1 &
  XVFB=$!
  export DISPLAY=$1
  for _ in $(seq 100); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done
}

# wait_for SECONDS DESCRIPTION COMMAND...: until COMMAND succeeds, polled every 0.1 s.
wait_for() {
  local secs=$1 what=$2; shift 2
  for _ in $(seq $((secs * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  fail "timed out waiting for $what"
}
