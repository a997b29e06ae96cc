#!/usr/bin/env bash
# The kiosk .deb on a real DRM/KMS device (virtio-gpu) in a QEMU guest, from outside.
#
#   tests/vm/run.sh [--deb FILE] [--arch amd64|arm64] [MODE...]     MODE: WxH, default 1920x1080
#   tests/vm/run.sh 1920x1080 1280x720 3840x2160                    what CI runs
#
# 1. The .deb: --deb, else the newest target/debian/mitid-flex-tv_*_<arch>.deb, else
#    packaging/build-deb.sh builds one.
# 2. The guest: tests/vm/build-image.sh (debootstrap, cached under target/vm/<arch>/;
#    `apt install ./the.deb`).
# 3. One boot per mode (tests/vm/vmtest.py): virtio-gpu at that mode, a virtio keyboard,
#    QMP for keys and screendumps, the guest agent for commands, the serial console logged.
#    PASS/FAIL per check, measurements, screendumps as PNG and the guest's journal in
#    target/vm/<arch>/out-<mode>/.
#
# Needs root (debootstrap, chroot), QEMU (qemu-system-x86 or -arm), debootstrap, e2fsprogs,
# imagemagick, python3. Where QEMU is missing and cannot be installed, it says so and exits
# 0 (SKIP); everywhere else a failed check fails the run.
# The emulated CPU is TCG (-accel tcg): absolute timings are slow and only worth comparing
# between commits on the same machine.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
ARCH=amd64
DEB=""
MODES=()
while [ $# -gt 0 ]; do
    case "$1" in
    --deb) DEB="$2"; shift 2 ;;
    --arch) ARCH="$2"; shift 2 ;;
    -h | --help) sed -n '2,22p' "$0"; exit 0 ;;
    [0-9]*x[0-9]*) MODES+=("$1"); shift ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ ${#MODES[@]} -gt 0 ] || MODES=(1920x1080)
case "$ARCH" in
amd64) QEMU=qemu-system-x86_64 QEMU_PKG=qemu-system-x86 ;;
arm64) QEMU=qemu-system-aarch64 QEMU_PKG=qemu-system-arm ;;
*) echo "run.sh: --arch amd64|arm64" >&2; exit 2 ;;
esac

if ! command -v "$QEMU" >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        "$HERE/install-qemu.sh" "$QEMU_PKG" >&2 || true
    fi
    if ! command -v "$QEMU" >/dev/null; then
        echo "SKIP: $QEMU is not installed and cannot be installed here (needs root and apt); the kiosk was NOT tested on a DRM/KMS device"
        exit 0
    fi
fi
[ "$(id -u)" = 0 ] || { echo "run.sh: run as root (debootstrap and chroot build the guest)" >&2; exit 1; }
for tool in debootstrap mkfs.ext4 convert python3; do
    command -v "$tool" >/dev/null || {
        echo "run.sh: $tool is missing (apt-get install debootstrap e2fsprogs imagemagick python3)" >&2
        exit 1
    }
done

if [ -z "$DEB" ]; then
    DEB="$(ls -t "${CARGO_TARGET_DIR:-$ROOT/target}"/debian/mitid-flex-tv_*_"$ARCH".deb 2>/dev/null | head -n1 || true)"
    [ -n "$DEB" ] || DEB="$("$ROOT/packaging/build-deb.sh" "$ARCH" | tail -n1)"
fi
echo "== .deb: $DEB"
# The broker simulator for the guest (the kiosk binary has none): a default-features build,
# which the test suite has built already in CI.
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
if [ -z "${SIM_BIN:-}" ]; then
    [ "$ARCH" = amd64 ] || { echo "run.sh: set SIM_BIN to an $ARCH mitid-flex-sim" >&2; exit 1; }
    for candidate in "$TARGET_DIR/debug/mitid-flex-sim" "$TARGET_DIR/release/mitid-flex-sim"; do
        [ -x "$candidate" ] && SIM_BIN="$candidate" && break
    done
    if [ -z "${SIM_BIN:-}" ]; then
        (cd "$ROOT" && cargo build --locked --bin mitid-flex-sim >&2)
        SIM_BIN="$TARGET_DIR/debug/mitid-flex-sim"
    fi
fi
export SIM_BIN
echo "== simulator: $SIM_BIN"
T0=$(date +%s)
IMAGE_DIR="$(VM_ARCH="$ARCH" "$HERE/build-image.sh" "$DEB" | tail -n1)"
T1=$(date +%s)
echo "== guest image: $IMAGE_DIR ($((T1 - T0)) s)"

failed=()
for mode in "${MODES[@]}"; do
    out="$IMAGE_DIR/out-$mode"
    rm -rf "$out"
    mkdir -p "$out"
    if ! python3 -B "$HERE/vmtest.py" --arch "$ARCH" --mode "$mode" --image-dir "$IMAGE_DIR" --out "$out"; then
        failed+=("$mode")
    fi
done
T2=$(date +%s)
echo "== VM runs: $((T2 - T1)) s for ${#MODES[@]} mode(s); image $((T1 - T0)) s"
if [ ${#failed[@]} -gt 0 ]; then
    echo "run.sh: checks failed at ${failed[*]} (screendumps and journal: $IMAGE_DIR/out-<mode>/)"
    exit 1
fi
echo "run.sh: every check passed at ${MODES[*]}"
