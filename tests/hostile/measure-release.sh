#!/usr/bin/env bash
# The misbehaving-OP tests against the release binary (panic = "abort", LTO), one test at a
# time so that peak RSS and signal-to-exit times are not disturbed by parallel runs. Prints
# the measured numbers; the README's "Measured" table quotes them.
# Takes about 10 min for the release build on a 2-core machine, then about 1 min.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

nice -n 10 cargo build --release --locked --bin mitid-flex-tv
HOSTILE_BIN="$PWD/target/release/mitid-flex-tv" \
    cargo test --locked --test hostile -- --nocapture --test-threads 1 2>&1 |
    grep -oE '(RSS|signal|expires_in) .*|test result.*'
