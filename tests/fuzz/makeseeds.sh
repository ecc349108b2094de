#!/bin/sh
# Regenerates the binary seed files of tests/fuzz/corpus/ that cannot be edited by
# hand; the text seeds (JSON, YAML, durations, history lines) are edited in place.
#   alsdecoder/*.bin  StreamAccessLogsMessage from seeds/alsdecoder/*.txtpb (protoc --encode)
#   xds/*.bin         DiscoveryRequest from seeds/xds/*.txtpb, and pseudo-random bytes
#                     (fixed AES-CTR keystream) that fuzz_xds reads as route sets
#   peercertificate/  certificates, a chain and near-misses made by `openssl`
#                     (new keys each run, so these files change every time)
# Needs protoc, openssl and the protobuf well-known .proto files (Debian:
# libprotobuf-dev). Run from anywhere: sh tests/fuzz/makeseeds.sh
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
proto="$root/core/proto"
wkt=${PROTOBUF_INCLUDE:-/usr/include}
corpus="$here/corpus"

encode() {  # encode <message type> <.proto> <txtpb dir> <out dir>
    mkdir -p "$4"
    for src in "$3"/*.txtpb; do
        protoc -I "$proto" -I "$wkt" --encode="$1" "$2" <"$src" >"$4/$(basename "$src" .txtpb).bin"
    done
}

encode envoy.service.accesslog.v3.StreamAccessLogsMessage envoy/service/accesslog/v3/als.proto \
    "$here/seeds/alsdecoder" "$corpus/alsdecoder"
encode envoy.service.discovery.v3.DiscoveryRequest envoy/service/discovery/v3/discovery.proto \
    "$here/seeds/xds" "$corpus/xds"

for n in 1 2 3 4; do
    openssl enc -aes-128-ctr -nosalt -K "0000000000000000000000000000000$n" -iv 00000000000000000000000000000000 \
        </dev/zero 2>/dev/null | head -c $((n * 128)) >"$corpus/xds/routeset-$n.bin"
done

pem="$corpus/peercertificate"
mkdir -p "$pem"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
# shellcheck disable=SC2086  # $ec is several options
openssl req -x509 $ec -keyout ca.key -out ca.pem -days 3650 -subj "/O=meshscope tests/CN=meshscope test CA" \
    -addext "basicConstraints=critical,CA:TRUE" 2>/dev/null
leaf() {  # leaf <name> <subject> <SANs> <days>
    # shellcheck disable=SC2086
    openssl req $ec -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
    printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$3" >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -set_serial 101 -days "$4" -extfile "$1.ext" \
        -out "$1.pem" 2>/dev/null
}
leaf checkout "/O=shop/CN=checkout" \
    "DNS:checkout.shop.svc,DNS:checkout.test,IP:127.0.0.1,IP:::1,URI:https://meshscope.test/about,URI:spiffe://meshscope.test/ns/shop/sa/checkout" 90
leaf short "/CN=short-lived" "URI:spiffe://meshscope.test/ns/shop/sa/cart" 5
leaf svid "/" "URI:spiffe://cluster.local/ns/bookinfo/sa/reviews" 1
# A UTF-8 name and a comma that RFC 2253 escapes.
subj=$(printf '/C=DE/O=Ex\\, Ample/CN=r\303\251sum\303\251.example')
openssl req -x509 -newkey rsa:2048 -nodes -keyout rsa.key -out rsa.pem -days 30 -utf8 -subj "$subj" 2>/dev/null

cp ca.pem "$pem/ca.pem"
cp checkout.pem "$pem/leaf-sans.pem"
cp short.pem "$pem/leaf-short-lived.pem"
cp svid.pem "$pem/svid-empty-subject.pem"
cp rsa.pem "$pem/rsa-self-signed.pem"
cat checkout.pem ca.pem >"$pem/chain.pem"
{ printf 'Bag Attributes\n    friendlyName: checkout\nsubject=/CN=checkout\n'; cat checkout.pem; } >"$pem/openssl-text-before.pem"
cp checkout.key "$pem/private-key-not-a-certificate.pem"
chmod 644 "$pem"/*.pem
# The right armour around base64 that is cut short.
head -c 300 checkout.pem >"$pem/cut-short.pem"
printf '%s\n' '-----END CERTIFICATE-----' >>"$pem/cut-short.pem"
