#!/usr/bin/env bash
# Certificates for relay mode, with openssl only (ECDSA P-256 keys).
#
#   make-certs.sh ca DIR                 box CA: DIR/box-ca.{key,crt} (keep box-ca.key offline)
#   make-certs.sh server DIR HOST...     relay CA + relay certificate for HOST names/IPs:
#                                        DIR/relay-ca.{key,crt}, DIR/tls.{key,crt}
#   make-certs.sh box DIR BOX_ID [DAYS]  a box certificate, CN = BOX_ID (letters, digits, - _ .):
#                                        DIR/boxes/BOX_ID.{key,crt}, signed by DIR/box-ca
#
# The relay gets box-ca.crt (client_ca), tls.crt and tls.key; each box gets its own
# BOX_ID.crt/.key as systemd credentials (relay_cert, relay_key) and relay-ca.crt.
set -euo pipefail

die() { echo "make-certs: $*" >&2; exit 2; }
[ $# -ge 2 ] || die "usage: $0 ca DIR | server DIR HOST... | box DIR BOX_ID [DAYS]"
cmd=$1 dir=$2
shift 2
mkdir -p "$dir"
umask 077

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

self_signed_ca() { # name cn
    newkey "$dir/$1.key"
    openssl req -x509 -new -key "$dir/$1.key" -out "$dir/$1.crt" -days 3650 -subj "/CN=$2" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    chmod 644 "$dir/$1.crt"
}

sign() { # ca csr out days extfile
    openssl x509 -req -in "$2" -CA "$dir/$1.crt" -CAkey "$dir/$1.key" -CAcreateserial \
        -out "$3" -days "$4" -extfile "$5" 2>/dev/null
    chmod 644 "$3"
}

case "$cmd" in
ca)
    [ -e "$dir/box-ca.key" ] && die "$dir/box-ca.key exists; not overwriting"
    self_signed_ca box-ca "mitid-flex-relay box CA"
    echo "$dir/box-ca.crt (give to the relay as client_ca); keep $dir/box-ca.key offline"
    ;;
server)
    [ $# -ge 1 ] || die "server needs at least one host name or IP"
    [ -e "$dir/relay-ca.key" ] || self_signed_ca relay-ca "mitid-flex-relay server CA"
    sans=()
    for h in "$@"; do
        if [[ $h =~ ^[0-9.]+$ || $h == *:* ]]; then sans+=("IP:$h"); else sans+=("DNS:$h"); fi
    done
    ext=$(mktemp)
    trap 'rm -f "$ext" "$dir/tls.csr"' EXIT
    printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' \
        "$(IFS=,; echo "${sans[*]}")" >"$ext"
    newkey "$dir/tls.key"
    openssl req -new -key "$dir/tls.key" -out "$dir/tls.csr" -subj "/CN=$1" 2>/dev/null
    sign relay-ca "$dir/tls.csr" "$dir/tls.crt" 825 "$ext"
    echo "$dir/tls.crt and $dir/tls.key for the relay; $dir/relay-ca.crt for every box"
    ;;
box)
    [ $# -ge 1 ] || die "box needs a BOX_ID"
    id=$1 days=${2:-3650}
    [[ $id =~ ^[A-Za-z0-9._-]{1,64}$ ]] || die "BOX_ID: 1-64 of letters, digits, - _ ."
    [ -e "$dir/box-ca.key" ] || die "no $dir/box-ca.key: run '$0 ca $dir' first"
    mkdir -p "$dir/boxes"
    ext=$(mktemp)
    trap 'rm -f "$ext" "$dir/boxes/$id.csr"' EXIT
    printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' >"$ext"
    newkey "$dir/boxes/$id.key"
    openssl req -new -key "$dir/boxes/$id.key" -out "$dir/boxes/$id.csr" -subj "/CN=$id" 2>/dev/null
    sign box-ca "$dir/boxes/$id.csr" "$dir/boxes/$id.crt" "$days" "$ext"
    echo "$dir/boxes/$id.crt and $dir/boxes/$id.key"
    ;;
*) die "unknown command $cmd" ;;
esac
