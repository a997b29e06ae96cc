#!/usr/bin/env bash
# Build the relay's .deb: packaging/relay/build-deb.sh [amd64]
#   -> target/debian/mitid-flex-relay_<version>_amd64.deb
#
# Separate from packaging/build-deb.sh (the kiosk package): the relay runs on the operator's
# servers, not on boxes, and is built with the cargo feature `relay`. Needs cargo, dpkg-dev.
#   PROFILE=release (default) or another cargo profile; CARGO_TARGET_DIR is honoured.
#   help2man (optional) makes the man page.
set -euo pipefail

ARCH="${1:-amd64}"
[ "$ARCH" = amd64 ] || { echo "build-deb: only amd64 is built for the relay" >&2; exit 2; }
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/packaging/relay"
cd "$ROOT"
PACKAGE=mitid-flex-relay
PROFILE="${PROFILE:-release}"
MAINTAINER="${DEB_MAINTAINER:-mitid-flex-tv maintainers <maintainers@mitid-flex-tv.example.org>}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
VERSION="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)"
[ -n "$VERSION" ] || { echo "build-deb: no version in Cargo.toml" >&2; exit 1; }
CHANGELOG_VERSION="$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$HERE/changelog")"
[ "$CHANGELOG_VERSION" = "$VERSION" ] || {
    echo "build-deb: packaging/relay/changelog is at $CHANGELOG_VERSION, Cargo.toml at $VERSION" >&2
    exit 1
}

for tool in cargo dpkg-deb dpkg-shlibdeps; do
    command -v "$tool" >/dev/null || { echo "build-deb: $tool missing (apt-get install dpkg-dev)" >&2; exit 1; }
done

echo "==> cargo build --profile $PROFILE --features relay --bin $PACKAGE" >&2
cargo build --locked --profile "$PROFILE" --no-default-features --features relay --bin "$PACKAGE"
case "$PROFILE" in
release | bench) OUT_SUBDIR=release ;;
dev | test) OUT_SUBDIR=debug ;;
*) OUT_SUBDIR="$PROFILE" ;;
esac
BIN="$TARGET_DIR/$OUT_SUBDIR/$PACKAGE"

STAGE="$TARGET_DIR/debian/$PACKAGE-stage"
OUT="$TARGET_DIR/debian/${PACKAGE}_${VERSION}_${ARCH}.deb"
rm -rf "$STAGE"
inst() { install -D -m "$1" "$2" "$STAGE/$3"; }
inst 0755 "$BIN" usr/bin/$PACKAGE
strip --strip-unneeded "$STAGE/usr/bin/$PACKAGE" 2>/dev/null || true
inst 0644 "$HERE/mitid-flex-relay.service" lib/systemd/system/$PACKAGE.service
inst 0644 "$HERE/relay.toml" etc/$PACKAGE/relay.toml
inst 0644 "$HERE/denied-boxes" etc/$PACKAGE/denied-boxes
inst 0755 "$HERE/make-certs.sh" usr/share/$PACKAGE/make-certs.sh
DOC="usr/share/doc/$PACKAGE"
inst 0644 "$HERE/README.md" "$DOC/README.md"
inst 0644 "$HERE/box-config.toml" "$DOC/examples/box-config.toml"
inst 0644 "$ROOT/packaging/debian/copyright" "$DOC/copyright"
# Native package: Debian policy wants the changelog as changelog.gz.
inst 0644 "$HERE/changelog" "$DOC/changelog"
# Man page from --help (help2man, when installed).
if command -v help2man >/dev/null; then
    mkdir -p "$STAGE/usr/share/man/man8"
    help2man --no-info --section 8 --name "MitID Flex relay for a fleet of TV boxes" \
        --version-string "$VERSION" "$BIN" >"$STAGE/usr/share/man/man8/$PACKAGE.8"
    gzip -9n "$STAGE/usr/share/man/man8/$PACKAGE.8"
else
    echo "build-deb: help2man missing: no man page (lintian warns)" >&2
fi
gzip -9n "$STAGE/$DOC/README.md" "$STAGE/$DOC/changelog"
find "$STAGE" -type d -exec chmod 0755 {} +

mkdir -p "$STAGE/DEBIAN"
printf '/etc/%s/relay.toml\n/etc/%s/denied-boxes\n' "$PACKAGE" "$PACKAGE" >"$STAGE/DEBIAN/conffiles"
cat >"$STAGE/DEBIAN/postinst" <<'SH'
#!/bin/sh
set -e
if [ "$1" = "configure" ]; then
    # Secrets for LoadCredential=, root-only. Empty until the operator fills them in; the
    # relay refuses to start without client_secret and seal_key.
    for f in client_secret seal_key webhook_key tls.key; do
        [ -e "/etc/mitid-flex-relay/$f" ] || install -m 0600 -o root -g root /dev/null "/etc/mitid-flex-relay/$f"
    done
    if [ -d /run/systemd/system ]; then
        systemctl --system daemon-reload >/dev/null || true
        [ -n "$2" ] && systemctl try-restart mitid-flex-relay.service >/dev/null 2>&1 || true
    fi
fi
exit 0
SH
cat >"$STAGE/DEBIAN/postrm" <<'SH'
#!/bin/sh
set -e
if [ "$1" = "purge" ]; then
    rm -f /etc/mitid-flex-relay/client_secret /etc/mitid-flex-relay/seal_key \
        /etc/mitid-flex-relay/webhook_key /etc/mitid-flex-relay/tls.key
fi
if [ -d /run/systemd/system ]; then systemctl --system daemon-reload >/dev/null || true; fi
exit 0
SH
chmod 0755 "$STAGE/DEBIAN/postinst" "$STAGE/DEBIAN/postrm"

# dpkg-shlibdeps wants a source tree with a control file naming the package.
SHLIBS_WORK="$(mktemp -d)"
mkdir -p "$SHLIBS_WORK/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$PACKAGE" "$PACKAGE" >"$SHLIBS_WORK/debian/control"
DEPENDS="$(cd "$SHLIBS_WORK" && dpkg-shlibdeps -O "$STAGE/usr/bin/$PACKAGE" | sed -n 's/^shlibs:Depends=//p')"
rm -rf "$SHLIBS_WORK"
[ -n "$DEPENDS" ] || { echo "build-deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
SIZE="$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)"
cat >"$STAGE/DEBIAN/control" <<CTRL
Package: $PACKAGE
Version: $VERSION
Architecture: $ARCH
Maintainer: $MAINTAINER
Installed-Size: $SIZE
Depends: $DEPENDS
Recommends: redis-server, openssl
Section: net
Priority: optional
Homepage: https://example.invalid/mitid-flex-tv
Description: MitID Flex relay for a fleet of TV boxes
 Holds the MitID broker's client secret for many set-top boxes running
 mitid-flex-tv in relay mode: each box proves itself with a client
 certificate (mutual TLS), pushes are limited per box, per viewer and in
 total (shared through Redis), and the operator's backend is told who
 signed in by a signed webhook. Prometheus /metrics and /healthz.
CTRL
(cd "$STAGE" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
    xargs -0 md5sum >DEBIAN/md5sums)
chmod 0644 "$STAGE/DEBIAN/md5sums" "$STAGE/DEBIAN/conffiles" "$STAGE/DEBIAN/control"
mkdir -p "$(dirname "$OUT")"
dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$OUT" >/dev/null
echo "$OUT"
