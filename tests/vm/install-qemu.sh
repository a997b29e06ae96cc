#!/usr/bin/env bash
# Installs QEMU for tests/vm: tests/vm/install-qemu.sh [qemu-system-x86|qemu-system-arm]
#
# Debian 12 machines here may carry qemu-utils 10.0 from bookworm-backports, which blocks
# bookworm's own qemu-system-x86 7.2 (qemu-system-common conflicts). So: backports first
# (through a private apt config made from the machine's own sources), the plain package
# where backports cannot be reached or is not needed.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tests/vm/apt-mirror.sh
. "$HERE/apt-mirror.sh"
PKGS=("${@:-qemu-system-x86}")
if install_backports "${PKGS[@]}"; then
    exit 0
fi
echo "install-qemu: backports failed; trying $(debian_codename)'s own ${PKGS[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${PKGS[@]}"
