#!/usr/bin/env bash
# Check an arm64 .deb on an amd64 machine:
#   packaging/check-arm64.sh [target/debian/mitid-flex-tv_<version>_arm64.deb]
# 1. the package says Architecture: arm64 and `file` shows the binary is ARM aarch64;
# 2. `mitid-flex-tv --version` runs under qemu-aarch64-static and prints the package version.
#
# Needs: file, qemu-user-static, and the arm64 run-time libraries the binary links
# (libc6:arm64 libfontconfig1:arm64 libinput10:arm64 libudev1:arm64 libxkbcommon0:arm64),
# which the arm64 build dependencies of build-deb.sh already bring in.
# Build it first: packaging/build-deb.sh arm64
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEB="${1:-}"
if [ -z "$DEB" ]; then
    DEB="$(ls -t "${CARGO_TARGET_DIR:-$ROOT/target}"/debian/mitid-flex-tv_*_arm64.deb 2>/dev/null | head -n1 || true)"
fi
[ -n "$DEB" ] && [ -f "$DEB" ] || {
    echo "check-arm64: no arm64 .deb (run packaging/build-deb.sh arm64 first)" >&2
    exit 1
}
for tool in file qemu-aarch64-static dpkg-deb; do
    command -v "$tool" >/dev/null || {
        echo "check-arm64: $tool is missing (apt-get install file qemu-user-static dpkg)" >&2
        exit 1
    }
done

failed=0
pass() { printf '  ok    %s\n' "$*"; }
fail() {
    printf '  FAIL  %s\n' "$*"
    failed=$((failed + 1))
}

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
dpkg-deb -x "$DEB" "$WORK"
BIN="$WORK/usr/bin/mitid-flex-tv"
VERSION="$(dpkg-deb -f "$DEB" Version)"
echo "$(basename "$DEB"): $(stat -c %s "$DEB") bytes"

ARCH="$(dpkg-deb -f "$DEB" Architecture)"
[ "$ARCH" = arm64 ] && pass "Architecture: $ARCH" || fail "Architecture: $ARCH, want arm64"

FILE_OUT="$(file -b "$BIN")"
echo "  file: $FILE_OUT"
case "$FILE_OUT" in
*"ARM aarch64"*) pass "binary is ARM aarch64" ;;
*) fail "binary is not ARM aarch64" ;;
esac

echo "  NEEDED: $(objdump -p "$BIN" 2>/dev/null | awk '/NEEDED/ {printf "%s ", $2}')"

# The arm64 dynamic loader and libraries come from Debian's multiarch arm64 packages.
if OUT="$(qemu-aarch64-static "$BIN" --version 2>&1)"; then
    echo "  qemu-aarch64-static mitid-flex-tv --version: $OUT"
    case "$OUT" in
    *"$VERSION"*) pass "--version under qemu prints $VERSION" ;;
    *) fail "--version under qemu does not print $VERSION" ;;
    esac
else
    echo "$OUT" | sed 's/^/    /'
    fail "--version under qemu failed (are libc6:arm64 and the arm64 libraries installed?)"
fi

if [ "$failed" -eq 0 ]; then
    echo "check-arm64: all checks passed"
else
    echo "check-arm64: $failed check(s) failed"
    exit 1
fi
