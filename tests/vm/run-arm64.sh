#!/usr/bin/env bash
# The same guest test for the arm64 .deb, under qemu-system-aarch64 (TCG, the "virt"
# machine, virtio-gpu-pci), from an amd64 machine:
#
#   tests/vm/run-arm64.sh [MODE...]          default 1920x1080; SIM_BIN: an arm64 mitid-flex-sim (built when unset)
#
# 1. The arm64 .deb, cross-compiled: INSTALL_DEPS=1 packaging/build-deb.sh arm64 (adds the
#    arm64 architecture, the cross compiler and the arm64 -dev libraries, the Rust target).
#    Skipped when target/debian/ already has one.
# 2. qemu-user-static and binfmt_misc, so that debootstrap can run the arm64 root's
#    maintainer scripts; QEMU (qemu-system-arm) from backports like the amd64 run.
# 3. tests/vm/run.sh --arch arm64: the arm64 Debian kernel booted with -kernel/-initrd (no
#    firmware needed on "virt"), the same checks and measurements.
#
# Everything runs emulated instruction by instruction: a cold run (cross build, image, one
# boot) takes far longer than the amd64 one. Needs root.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
[ "$(id -u)" = 0 ] || { echo "run-arm64.sh: run as root" >&2; exit 1; }

DEB="$(ls -t "${CARGO_TARGET_DIR:-$ROOT/target}"/debian/mitid-flex-tv_*_arm64.deb 2>/dev/null | head -n1 || true)"
if [ -z "$DEB" ]; then
    DEB="$(INSTALL_DEPS=1 "$ROOT/packaging/build-deb.sh" arm64 | tail -n1)"
fi

if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    export DEBIAN_FRONTEND=noninteractive
    # The package may be there already (build-deb.sh uses it for the man page) without
    # binfmt-support, whose update-binfmts registers the interpreter.
    { dpkg-query -W -f='${Status}' qemu-user-static 2>/dev/null | grep -q "ok installed" &&
        command -v update-binfmts >/dev/null; } ||
        apt-get install -y -qq --no-install-recommends qemu-user-static binfmt-support >&2 || true
    [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    update-binfmts --enable qemu-aarch64 >&2 || true
    # Without binfmt-support: the package's systemd-binfmt line is the kernel's register format.
    if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] && [ -r /usr/lib/binfmt.d/qemu-aarch64.conf ]; then
        cat /usr/lib/binfmt.d/qemu-aarch64.conf >/proc/sys/fs/binfmt_misc/register || true
    fi
fi
[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] ||
    { echo "run-arm64.sh: binfmt_misc cannot run arm64 programs here (qemu-user-static)" >&2; exit 1; }

# The simulator runs in the guest beside the kiosk, so it is an arm64 program too: the
# simulator feature only (no desktop window), cross-built like the .deb.
if [ -z "${SIM_BIN:-}" ]; then
    RUST_TARGET=aarch64-unknown-linux-gnu GNU_TRIPLET=aarch64-linux-gnu
    (
        cd "$ROOT"
        export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=$GNU_TRIPLET-gcc
        export CC_aarch64_unknown_linux_gnu=$GNU_TRIPLET-gcc AR_aarch64_unknown_linux_gnu=$GNU_TRIPLET-ar
        export PKG_CONFIG_ALLOW_CROSS=1 PKG_CONFIG_PATH= PKG_CONFIG_SYSROOT_DIR=/
        export PKG_CONFIG_LIBDIR="/usr/lib/$GNU_TRIPLET/pkgconfig:/usr/share/pkgconfig"
        cargo build --release --locked --no-default-features --features sim \
            --bin mitid-flex-sim --target "$RUST_TARGET" >&2
    )
    SIM_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/$RUST_TARGET/release/mitid-flex-sim"
fi
export SIM_BIN

exec "$HERE/run.sh" --arch arm64 --deb "$DEB" "${@:-1920x1080}"
