#!/usr/bin/env bash
# Debian mirror and backports from this machine's own apt configuration. Never write a
# mirror's host name into the repository: boxes and CI machines each have their own.
#
# Sourced by .ci/package-check and tests/vm/*.sh; run directly it prints the mirror:
#   tests/vm/apt-mirror.sh              -> the URI that serves the "main" Debian suite
#   tests/vm/apt-mirror.sh install-backports PKG...
#       apt-get install -t <suite>-backports PKG... through a private apt config (a copy of
#       the machine's sources plus <suite>-backports on the same mirror); the machine's
#       own sources are left unchanged.
#
# DEBIAN_MIRROR, when set, wins (an operator's choice, never a default in the repo).

# debian_mirror [SUITE]: the first URIs: of a deb822 source (sources.list.d/*.sources) whose
# Suites: contain SUITE (default: the machine's codename), else the first matching
# one-line "deb URI SUITE" entry. Prints nothing and fails when there is none.
debian_mirror() {
    local suite="${1:-$(debian_codename)}"
    if [ -n "${DEBIAN_MIRROR:-}" ]; then
        printf '%s\n' "$DEBIAN_MIRROR"
        return 0
    fi
    local f uri
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        # deb822: stanzas separated by blank lines; fields URIs:, Suites:, Types:.
        uri="$(awk -v want="$suite" '
            BEGIN { RS = ""; FS = "\n" }
            {
                uris = ""; suites = ""; types = ""
                for (i = 1; i <= NF; i++) {
                    line = $i
                    if (line ~ /^#/) continue
                    if (line ~ /^URIs:/)   { sub(/^URIs:[ \t]*/, "", line); uris = line }
                    if (line ~ /^Suites:/) { sub(/^Suites:[ \t]*/, "", line); suites = " " line " " }
                    if (line ~ /^Types:/)  { types = line }
                }
                if (types ~ /(^|[ \t])deb([ \t]|$)/ && index(suites, " " want " ") > 0) {
                    split(uris, u, /[ \t]+/); print u[1]; exit
                }
            }' "$f")"
        if [ -n "$uri" ]; then
            printf '%s\n' "$uri"
            return 0
        fi
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        uri="$(awk -v want="$suite" '$1 == "deb" {
                i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                if ($(i + 1) == want) { print $i; exit } }' "$f")"
        if [ -n "$uri" ]; then
            printf '%s\n' "$uri"
            return 0
        fi
    done
    return 1
}

debian_codename() {
    # shellcheck disable=SC1091
    (. /etc/os-release && printf '%s\n' "${VERSION_CODENAME:-bookworm}")
}

# install_backports PKG...: apt-get install -t <codename>-backports through a private
# apt config that adds the backports suite on the machine's own mirror.
install_backports() {
    local codename mirror dir
    codename="$(debian_codename)"
    mirror="$(debian_mirror "$codename")" || {
        echo "apt-mirror: no Debian mirror for $codename in /etc/apt/sources.list{,.d}" >&2
        return 1
    }
    dir="$(mktemp -d)"
    mkdir -p "$dir/sources.list.d"
    cp /etc/apt/sources.list.d/*.sources "$dir/sources.list.d/" 2>/dev/null || true
    cp /etc/apt/sources.list.d/*.list "$dir/sources.list.d/" 2>/dev/null || true
    cat >"$dir/sources.list.d/zz-backports.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $codename-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    local opts=(-o "Dir::Etc::SourceParts=$dir/sources.list.d")
    [ -f /etc/apt/sources.list ] && opts+=(-o "Dir::Etc::SourceList=/etc/apt/sources.list")
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get "${opts[@]}" update -qq &&
        $sudo apt-get "${opts[@]}" install -y -qq --no-install-recommends \
            -t "$codename-backports" "$@"
    local rc=$?
    rm -rf "$dir"
    return $rc
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    case "${1:-}" in
    "") debian_mirror ;;
    install-backports)
        shift
        install_backports "$@"
        ;;
    *)
        echo "usage: $0 [install-backports PKG...]" >&2
        exit 2
        ;;
    esac
fi
