#!/usr/bin/env bash
# Build the kiosk .deb: packaging/build-deb.sh amd64|arm64
#   -> target/debian/mitid-flex-tv_<version>_<arch>.deb
#
# The package is written with dpkg-deb directly (no cargo-deb): every file, mode, maintainer
# script and dependency is spelled out under packaging/, and nothing but Debian's own
# dpkg-dev tools is needed. arm64 is cross-compiled with Debian multiarch.
#
# Options (environment):
#   INSTALL_DEPS=1    apt-get install the build dependencies first (needs root); for arm64
#                     this also runs `dpkg --add-architecture arm64` and `rustup target add`.
#   DEB_MAINTAINER    Maintainer field (default below).
#   CARGO_TARGET_DIR  honoured, like cargo does.
#
# Build dependencies (Debian 12), which INSTALL_DEPS=1 installs:
#   both:  gcc libc6-dev pkg-config dpkg-dev file help2man
#          libfontconfig-dev libudev-dev libinput-dev libxkbcommon-dev
#   arm64: gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static (man page only)
#          libfontconfig-dev:arm64 libudev-dev:arm64 libinput-dev:arm64 libxkbcommon-dev:arm64
#          and the Rust target: rustup target add aarch64-unknown-linux-gnu
set -euo pipefail

ARCH="${1:-}"
case "$ARCH" in
amd64) RUST_TARGET=x86_64-unknown-linux-gnu GNU_TRIPLET=x86_64-linux-gnu ;;
arm64) RUST_TARGET=aarch64-unknown-linux-gnu GNU_TRIPLET=aarch64-linux-gnu ;;
*)
    echo "usage: $0 amd64|arm64" >&2
    exit 2
    ;;
esac

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PKG_DIR="$ROOT/packaging"
cd "$ROOT"

PACKAGE=mitid-flex-tv
FEATURES=kiosk
MAINTAINER="${DEB_MAINTAINER:-mitid-flex-tv maintainers <maintainers@mitid-flex-tv.example.org>}"
HOST_ARCH="$(dpkg --print-architecture)"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() {
    printf 'build-deb: %s\n' "$*" >&2
    exit 1
}

# Build dependencies as Debian packages. For arm64 the libraries are the arm64 multiarch
# packages and the compiler is the cross one.
COMMON_DEPS=(gcc libc6-dev pkg-config dpkg-dev file help2man)
LIB_DEPS=(libfontconfig-dev libudev-dev libinput-dev libxkbcommon-dev)
if [ "$ARCH" = "$HOST_ARCH" ]; then
    BUILD_DEPS=("${COMMON_DEPS[@]}" "${LIB_DEPS[@]}")
else
    BUILD_DEPS=("${COMMON_DEPS[@]}" "gcc-$GNU_TRIPLET" "libc6-dev-$ARCH-cross" qemu-user-static
        "${LIB_DEPS[@]/%/:$ARCH}")
fi

install_deps() {
    export DEBIAN_FRONTEND=noninteractive
    [ "$ARCH" = "$HOST_ARCH" ] || dpkg --add-architecture "$ARCH"
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${BUILD_DEPS[@]}"
    [ "$ARCH" = "$HOST_ARCH" ] || rustup target add "$RUST_TARGET"
}

[ "${INSTALL_DEPS:-0}" = 1 ] && install_deps

# Check every build dependency before cargo starts: a missing -dev package otherwise ends
# in a panic deep inside a -sys crate's build script (libudev-sys, input-sys).
missing=()
for dep in "${BUILD_DEPS[@]}"; do
    dpkg-query -W -f='${Status}' "$dep" 2>/dev/null | grep -q "ok installed" || missing+=("$dep")
done
if [ "${#missing[@]}" -gt 0 ]; then
    hint="INSTALL_DEPS=1 $0 $ARCH (as root) installs them"
    [ "$ARCH" = "$HOST_ARCH" ] || hint="$hint, after dpkg --add-architecture $ARCH"
    die "missing build dependencies: ${missing[*]}
  apt-get install ${missing[*]}
  or: $hint"
fi
command -v cargo >/dev/null || die "cargo is missing: install Rust (https://rustup.rs), stable"

# ---- cross-compilation environment -------------------------------------------------------
CARGO_TARGET_ARGS=()
if [ "$ARCH" != "$HOST_ARCH" ]; then
    rustup target list --installed 2>/dev/null | grep -qx "$RUST_TARGET" ||
        die "Rust target $RUST_TARGET is missing (rustup target add $RUST_TARGET)"
    triplet_env="$(echo "$RUST_TARGET" | tr 'a-z-' 'A-Z_')"
    export "CARGO_TARGET_${triplet_env}_LINKER=$GNU_TRIPLET-gcc"
    export "CC_${RUST_TARGET//-/_}=$GNU_TRIPLET-gcc"
    export "CXX_${RUST_TARGET//-/_}=$GNU_TRIPLET-g++"
    export "AR_${RUST_TARGET//-/_}=$GNU_TRIPLET-ar"
    # pkg-config must see the target's .pc files only.
    export PKG_CONFIG_ALLOW_CROSS=1
    export PKG_CONFIG_PATH=
    export PKG_CONFIG_LIBDIR="/usr/lib/$GNU_TRIPLET/pkgconfig:/usr/share/pkgconfig"
    export PKG_CONFIG_SYSROOT_DIR=/
fi
# Always name the target, so that host and cross builds do not overwrite each other.
CARGO_TARGET_ARGS=(--target "$RUST_TARGET")

# ---- version and paths -------------------------------------------------------------------
META="$(cargo metadata --format-version 1 --no-deps --locked)"
field() { printf '%s' "$META" | python3 -c "import json,sys; m=json.load(sys.stdin); p=[p for p in m['packages'] if p['name']=='$PACKAGE'][0]; print($1)"; }
VERSION="$(field "p['version']")"
HOMEPAGE="$(field "p.get('repository') or p.get('homepage') or ''")"
TARGET_DIR="$(printf '%s' "$META" | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
OUT_DIR="$TARGET_DIR/debian"
STAGE="$OUT_DIR/stage-$ARCH"
DEB="$OUT_DIR/${PACKAGE}_${VERSION}_${ARCH}.deb"

CHANGELOG_VERSION="$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$PKG_DIR/debian/changelog")"
[ "$CHANGELOG_VERSION" = "$VERSION" ] ||
    die "packaging/debian/changelog is at $CHANGELOG_VERSION but Cargo.toml at $VERSION: add a changelog entry"
# Reproducible timestamps: the date of the newest changelog entry.
SOURCE_DATE_EPOCH="$(date -d "$(sed -n 's/^ -- .*>  \(.*\)$/\1/p' "$PKG_DIR/debian/changelog" | head -n1)" +%s)"
export SOURCE_DATE_EPOCH

# ---- build -------------------------------------------------------------------------------
log "cargo build --release ($ARCH, features: $FEATURES)"
cargo build --release --locked --no-default-features --features "$FEATURES" \
    --bin "$PACKAGE" "${CARGO_TARGET_ARGS[@]}"
BIN="$TARGET_DIR/$RUST_TARGET/release/$PACKAGE"
[ -x "$BIN" ] || die "no binary at $BIN"

# How to run the built binary on this machine (for the man page).
RUNNER=()
if [ "$ARCH" != "$HOST_ARCH" ]; then
    if [ "$ARCH" = arm64 ] && command -v qemu-aarch64-static >/dev/null 2>&1; then
        RUNNER=(qemu-aarch64-static)
    else
        RUNNER=(false)
    fi
fi

# ---- stage the file tree -----------------------------------------------------------------
log "staging $STAGE"
rm -rf "$STAGE"
mkdir -p "$STAGE/DEBIAN"
inst() { install -D -m "$1" "$2" "$STAGE/$3"; }

inst 0755 "$BIN" usr/bin/$PACKAGE
inst 0640 "$PKG_DIR/config.toml" etc/$PACKAGE/config.toml
# Debian 12 keeps units and sysusers files of packages in /lib and /usr/lib respectively.
inst 0644 "$PKG_DIR/$PACKAGE.service" lib/systemd/system/$PACKAGE.service
inst 0644 "$PKG_DIR/$PACKAGE.sysusers" usr/lib/sysusers.d/$PACKAGE.conf
inst 0644 "$PKG_DIR/$PACKAGE.rules" lib/udev/rules.d/70-$PACKAGE.rules
inst 0644 "$ROOT/assets/xkb/rules/evdev" usr/share/$PACKAGE/xkb/rules/evdev
inst 0644 "$ROOT/assets/xkb/symbols/tv" usr/share/$PACKAGE/xkb/symbols/tv
inst 0644 "$PKG_DIR/$PACKAGE.desktop" usr/share/applications/$PACKAGE.desktop
inst 0644 "$PKG_DIR/$PACKAGE.svg" usr/share/icons/hicolor/scalable/apps/$PACKAGE.svg
inst 0644 "$PKG_DIR/debian/lintian-overrides" usr/share/lintian/overrides/$PACKAGE

DOC="usr/share/doc/$PACKAGE"
inst 0644 "$PKG_DIR/debian/copyright" "$DOC/copyright"
inst 0644 "$PKG_DIR/debian/changelog" "$DOC/changelog"
inst 0644 "$PKG_DIR/README.md" "$DOC/README.md"
inst 0644 "$PKG_DIR/hwdb/70-$PACKAGE-remote.hwdb" "$DOC/examples/70-$PACKAGE-remote.hwdb"
inst 0644 "$PKG_DIR/examples/on-signin" "$DOC/examples/on-signin"

# Licences of the statically linked crates (normal dependencies of this build only).
cargo tree --locked -e normal --no-default-features --features "$FEATURES" \
    --target "$RUST_TARGET" --prefix none -f '{p} {l}' 2>/dev/null |
    sed -e 's/ (\*)$//' -e 's/ ([^)]*)\( \|$\)/\1/' | grep -v "^$PACKAGE " | sort -u |
    { printf 'Rust crates statically linked into /usr/bin/%s %s (%s): name version licence\n\n' "$PACKAGE" "$VERSION" "$ARCH"; cat; } \
        >"$STAGE/$DOC/THIRD-PARTY"
chmod 0644 "$STAGE/$DOC/THIRD-PARTY"

# Man page from --help, when the binary can run here.
if command -v help2man >/dev/null && "${RUNNER[@]}" "$BIN" --version >/dev/null 2>&1; then
    wrapper="$(mktemp -d)/$PACKAGE"
    printf '#!/bin/sh\nexec %s "%s" "$@"\n' "${RUNNER[*]}" "$BIN" >"$wrapper"
    chmod +x "$wrapper"
    mkdir -p "$STAGE/usr/share/man/man1"
    help2man --no-info --section 1 --name "sign a TV viewer in with the MitID app" \
        --version-string "$VERSION" "$wrapper" >"$STAGE/usr/share/man/man1/$PACKAGE.1"
    rm -rf "$(dirname "$wrapper")"
else
    log "no man page: help2man missing or the $ARCH binary cannot run here"
fi

# Compress documentation as Debian policy asks (changelog, README, man page).
DOC_DIRS=("$STAGE/usr/share/doc")
[ -d "$STAGE/usr/share/man" ] && DOC_DIRS+=("$STAGE/usr/share/man")
find "${DOC_DIRS[@]}" -type f \
    \( -name changelog -o -name README.md -o -name THIRD-PARTY -o -name '*.1' \) \
    -exec gzip -9n {} +
find "$STAGE" -type d -exec chmod 0755 {} +

# ---- control files -----------------------------------------------------------------------
log "dependencies (dpkg-shlibdeps)"
SHLIBS_WORK="$(mktemp -d)"
mkdir -p "$SHLIBS_WORK/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$PACKAGE" "$PACKAGE" >"$SHLIBS_WORK/debian/control"
SHLIBS_DEPENDS="$(cd "$SHLIBS_WORK" && DEB_HOST_ARCH="$ARCH" DEB_HOST_MULTIARCH="$GNU_TRIPLET" \
    dpkg-shlibdeps -O "$STAGE/usr/bin/$PACKAGE" | sed -n 's/^shlibs:Depends=//p')"
rm -rf "$SHLIBS_WORK"
[ -n "$SHLIBS_DEPENDS" ] || die "dpkg-shlibdeps found no dependencies"

INSTALLED_SIZE="$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)"
sed -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$ARCH|" -e "s|@MAINTAINER@|$MAINTAINER|" \
    -e "s|@INSTALLED_SIZE@|$INSTALLED_SIZE|" -e "s|@SHLIBS_DEPENDS@|$SHLIBS_DEPENDS|" \
    -e "s|@HOMEPAGE@|$HOMEPAGE|" "$PKG_DIR/debian/control.in" >"$STAGE/DEBIAN/control"
[ -n "$HOMEPAGE" ] || sed -i '/^Homepage: *$/d' "$STAGE/DEBIAN/control"
install -m 0644 "$PKG_DIR/debian/conffiles" "$STAGE/DEBIAN/conffiles"
for script in postinst prerm postrm; do
    install -m 0755 "$PKG_DIR/debian/$script" "$STAGE/DEBIAN/$script"
done
(cd "$STAGE" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
    xargs -0 md5sum >DEBIAN/md5sums)
chmod 0644 "$STAGE/DEBIAN/md5sums"

# ---- the .deb ----------------------------------------------------------------------------
find "$STAGE" -newermt "@$SOURCE_DATE_EPOCH" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
rm -f "$DEB"
dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$DEB" >/dev/null
log "built $DEB ($(du -k "$DEB" | cut -f1) KiB, installed $INSTALLED_SIZE KiB)"
echo "$DEB"
