#!/usr/bin/env bash
# A throwaway PKI for the tests, made with the openssl CLI (Node's crypto cannot issue
# certificates): a test CA; a server certificate for localhost and 127.0.0.1 (the HTTPS OP, the
# resource server, the app); client certificates for mTLS (self-signed and CA-issued); and odd
# ones for the option checks. Usage: pki.sh DIR (created if missing). Valid for two days.
set -euo pipefail
dir=${1:?usage: pki.sh DIR}
mkdir -p "$dir"
cd "$dir"
ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

ec ca.key
openssl req -x509 -new -key ca.key -sha256 -days 2 -subj "/CN=express-par test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.pem

issue() { # name subject extensions
  ec "$1.key"
  openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
  printf '%s\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -sha256 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm "$1.csr" "$1.ext"
}
issue server "/CN=localhost" $'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature'
issue tls-client "/CN=express-par tls_client_auth client" $'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature'

selfsigned() { # name subject [keyspec]
  if [ -n "${3:-}" ]; then openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$3" -out "$1.key" 2>/dev/null; else ec "$1.key"; fi
  openssl req -x509 -new -key "$1.key" -sha256 -days 2 -subj "$2" -addext "extendedKeyUsage=clientAuth" -out "$1.pem"
}
selfsigned client "/CN=express-par self-signed mTLS client"
selfsigned other-client "/CN=some other client"
selfsigned rsa1024-client "/CN=small RSA key" 1024
