#!/usr/bin/env bash
# Build the QEMU guest that boots the kiosk .deb: tests/vm/build-image.sh DEB
#   -> $VM_DIR/{vmlinuz,initrd.img,rootfs.img}   (VM_DIR default target/vm/<arch>)
#
# 1. A Debian 12 base made with debootstrap from this machine's own mirror: the stock
#    kernel (linux-image-<arch>), systemd, udev, the QEMU guest agent (the test driver runs
#    commands through it) and python3 (the guest helper writes /dev/uinput events). Cached as
#    a tarball keyed by everything that goes into it: about 2 minutes cold, then reused.
# 2. For each .deb: a copy of the base, `apt install ./the.deb` (so the package's declared
#    dependencies are what gets tested; downloaded packages are cached beside the image),
#    root autologin on ttyS0, and an operator's config for the embedded simulator (the
#    shipped one is kept as /root/shipped-config.toml for the config-error check).
# 3. An ext4 image written with mkfs.ext4 -d (no loop device, no mount), and the kernel
#    and initrd next to it: QEMU boots them with -kernel/-initrd.
#
# The kiosk binary holds no simulator: the broker simulator `mitid-flex-sim` (a default-features
# build, SIM_BIN) runs beside it in the guest as vm-sim.service on 127.0.0.1:8787, and the
# operator's config points the kiosk at it, as the README says for trying a box offline.
#
# Environment: SIM_BIN (required with a .deb), VM_ARCH (amd64 | arm64; default: the .deb's),
# VM_DIR, DEBIAN_MIRROR (default: the machine's apt sources). Needs root (debootstrap,
# chroot), debootstrap, e2fsprogs, binutils (strip).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
# shellcheck source=tests/vm/apt-mirror.sh
. "$HERE/apt-mirror.sh"

DEB="${1:-}"
if [ -n "$DEB" ]; then
    [ -f "$DEB" ] || {
        echo "usage: $0 [path/to/mitid-flex-tv_<version>_<arch>.deb]  (without: the base only)" >&2
        exit 2
    }
    DEB="$(cd "$(dirname "$DEB")" && pwd)/$(basename "$DEB")"
fi
ARCH="${VM_ARCH:-$(if [ -n "$DEB" ]; then dpkg-deb -f "$DEB" Architecture; else dpkg --print-architecture; fi)}"
VM_DIR="${VM_DIR:-$ROOT/target/vm/$ARCH}"
SUITE=bookworm
MIRROR="$(debian_mirror "$SUITE")" || {
    echo "build-image: no $SUITE mirror in /etc/apt/sources.list.d/*.sources (set DEBIAN_MIRROR)" >&2
    exit 1
}
PKG=mitid-flex-tv
log() { printf '==> %s\n' "$*" >&2; }
die() {
    printf 'build-image: %s\n' "$*" >&2
    exit 1
}
[ "$(id -u)" = 0 ] || die "run as root (debootstrap, chroot)"
for tool in debootstrap mkfs.ext4 dpkg-deb; do
    command -v "$tool" >/dev/null || die "$tool is missing (apt-get install debootstrap e2fsprogs dpkg)"
done

case "$ARCH" in
amd64) KERNEL_PKG=linux-image-amd64 ;;
arm64) KERNEL_PKG=linux-image-arm64 ;;
*) die "unsupported architecture $ARCH" ;;
esac
FOREIGN=()
if [ "$ARCH" != "$(dpkg --print-architecture)" ]; then
    # Maintainer scripts of a foreign root run under qemu-user through binfmt_misc.
    [ -e "/proc/sys/fs/binfmt_misc/qemu-aarch64" ] ||
        die "binfmt_misc has no qemu-aarch64 entry (apt-get install qemu-user-static binfmt-support; mount -t binfmt_misc none /proc/sys/fs/binfmt_misc; update-binfmts --enable)"
    FOREIGN=(--arch "$ARCH")
fi

INCLUDE="$KERNEL_PKG,systemd-sysv,udev,kmod,qemu-guest-agent,python3,procps"
KEY="$(printf '%s %s %s %s v1' "$SUITE" "$ARCH" "$MIRROR" "$INCLUDE" | md5sum | cut -c1-12)"
BASE="$VM_DIR/base-$KEY.tar"
ARCHIVES="$VM_DIR/apt-archives"
mkdir -p "$VM_DIR" "$ARCHIVES"

if [ -n "$DEB" ]; then
    [ -n "${SIM_BIN:-}" ] && [ -x "$SIM_BIN" ] ||
        die "SIM_BIN must name a mitid-flex-sim binary (cargo build --bin mitid-flex-sim)"
fi
# The image is rebuilt only when the .deb, the simulator or the guest set-up changed.
STAMP="$( (cat "$DEB" "${SIM_BIN:-/dev/null}" "$0" "$HERE/guest.py" 2>/dev/null; echo "$KEY") | sha256sum | cut -c1-16)"
if [ -n "$DEB" ] && [ -s "$VM_DIR/rootfs.img" ] && [ "$(cat "$VM_DIR/image.stamp" 2>/dev/null)" = "$STAMP" ]; then
    log "image up to date for $(basename "$DEB")"
    echo "$VM_DIR"
    exit 0
fi

WORK="$(mktemp -d "$VM_DIR/root.XXXXXX")"
MOUNTED=()
cleanup() {
    local m
    for m in "${MOUNTED[@]}"; do umount -l "$m" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
R="$WORK/root"
mkdir -p "$R"

T0=$(date +%s)
if [ ! -s "$BASE" ]; then
    log "debootstrap $SUITE $ARCH from $MIRROR (cached as $BASE)"
    debootstrap --variant=minbase "${FOREIGN[@]}" --include="$INCLUDE" "$SUITE" "$R" "$MIRROR" \
        >"$VM_DIR/debootstrap.log" 2>&1 || {
        tail -n 30 "$VM_DIR/debootstrap.log" >&2
        die "debootstrap failed (log: $VM_DIR/debootstrap.log)"
    }
    rm -f "$R"/var/cache/apt/archives/*.deb
    tar -C "$R" -cf "$BASE.tmp" . && mv "$BASE.tmp" "$BASE"
    # Older bases are of no further use.
    find "$VM_DIR" -maxdepth 1 -name 'base-*.tar' ! -name "base-$KEY.tar" -delete
else
    log "reusing $BASE"
    tar -C "$R" -xf "$BASE"
fi
T1=$(date +%s)
if [ -z "$DEB" ]; then
    log "base ready: $BASE ($((T1 - T0)) s)"
    exit 0
fi

mount -t proc proc "$R/proc" && MOUNTED+=("$R/proc")
mount --bind /dev "$R/dev" && MOUNTED+=("$R/dev")
in_root() { chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }

log "apt install ./$(basename "$DEB")"
cp "$DEB" "$R/root/"
cp /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null || true
find "$ARCHIVES" -name '*.deb' -exec cp -t "$R/var/cache/apt/archives/" {} + 2>/dev/null || true
printf 'deb %s %s main\n' "$MIRROR" "$SUITE" >"$R/etc/apt/sources.list"
if ! in_root apt-get install -y -q --no-install-recommends "/root/$(basename "$DEB")" \
    >"$VM_DIR/apt-install.log" 2>&1; then
    # The lists in the base may be older than the mirror: refresh once.
    in_root apt-get update -q >>"$VM_DIR/apt-install.log" 2>&1 || true
    in_root apt-get install -y -q --no-install-recommends "/root/$(basename "$DEB")" \
        >>"$VM_DIR/apt-install.log" 2>&1 || {
        tail -n 30 "$VM_DIR/apt-install.log" >&2
        die "apt install of the .deb failed (log: $VM_DIR/apt-install.log)"
    }
fi
find "$R/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -exec cp -n -t "$ARCHIVES/" {} +
rm -f "$R"/var/cache/apt/archives/*.deb "$R/root/$(basename "$DEB")"

log "guest set-up"
echo "kiosk-vm" >"$R/etc/hostname"
printf '/dev/vda / ext4 rw,relatime 0 0\n' >"$R/etc/fstab"
# Root logs in on the serial console without a password (a throw-away test guest).
mkdir -p "$R/etc/systemd/system/serial-getty@.service.d"
cat >"$R/etc/systemd/system/serial-getty@.service.d/autologin.conf" <<'EOF'
[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin root --keep-baud 115200,57600,38400,9600 - $TERM
EOF
in_root passwd -d root >/dev/null
# The journal in RAM: the image is booted with -snapshot and thrown away.
mkdir -p "$R/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\n' >"$R/etc/systemd/journald.conf.d/volatile.conf"
# Nothing that would compete with the kiosk for the two emulated CPUs.
for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer \
    systemd-timesyncd.service; do
    in_root systemctl mask "$unit" >/dev/null 2>&1 || true
done
# The broker simulator beside the kiosk.
strip -o "$R/usr/local/bin/mitid-flex-sim" "$SIM_BIN" 2>/dev/null || cp "$SIM_BIN" "$R/usr/local/bin/mitid-flex-sim"
chmod 0755 "$R/usr/local/bin/mitid-flex-sim"
cat >"$R/etc/systemd/system/vm-sim.service" <<'EOF'
[Unit]
Description=MitID broker simulator for the kiosk test
Before=mitid-flex-tv.service

[Service]
ExecStart=/usr/local/bin/mitid-flex-sim --listen 127.0.0.1:8787 --data-dir /var/lib/vm-sim
StateDirectory=vm-sim

[Install]
WantedBy=multi-user.target
EOF
in_root systemctl enable vm-sim.service >/dev/null 2>&1
# The operator's config: the simulator. The shipped file stays for the "shipped config
# shows a screen" check.
cp "$R/etc/$PKG/config.toml" "$R/root/shipped-config.toml"
sed -e 's|^profile = .*|profile = "simulator"\nissuer = "http://127.0.0.1:8787/op"|' \
    -e 's/^client_id = .*/# client_id: the simulator has its own/' \
    -e 's/^identifier_kind = .*/identifier_kind = "user-id"             # the simulator'"'"'s users have names/' \
    "$R/root/shipped-config.toml" >"$R/etc/$PKG/config.toml"
install -m 0755 "$HERE/guest.py" "$R/usr/local/bin/vm-guest"
# The kernel and initrd stay in the image too; QEMU is given copies.
cp -L "$R/vmlinuz" "$WORK/vmlinuz" 2>/dev/null || cp "$(ls -1 "$R"/boot/vmlinu* | tail -n1)" "$WORK/vmlinuz"
cp -L "$R/initrd.img" "$WORK/initrd.img" 2>/dev/null || cp "$(ls -1 "$R"/boot/initrd.img-* | tail -n1)" "$WORK/initrd.img"

for m in "${MOUNTED[@]}"; do umount -l "$m"; done
MOUNTED=()

log "ext4 image"
SIZE_MB=$(($(du -sm "$R" | cut -f1) + 512))
rm -f "$WORK/rootfs.img"
mkfs.ext4 -q -F -L kiosk -d "$R" "$WORK/rootfs.img" "${SIZE_MB}M"
mv "$WORK/rootfs.img" "$WORK/vmlinuz" "$WORK/initrd.img" "$VM_DIR/"
dpkg-deb -f "$DEB" Package Version Architecture Depends >"$VM_DIR/deb.info"
echo "$STAMP" >"$VM_DIR/image.stamp"
T2=$(date +%s)
log "image ready in $VM_DIR (base $((T1 - T0)) s, package and image $((T2 - T1)) s)"
echo "$VM_DIR"
