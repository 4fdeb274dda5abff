#!/usr/bin/env bash
# Debian packages the test suites need: Chromium (end-to-end tests), redis-server (scale-out
# tests) and openssl (the test certificates of the FAPI suite and the mTLS checks, made by
# test/support/pki.sh). Installs only what is missing; needs root (as on CI) or sudo.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
[ ${#need[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
