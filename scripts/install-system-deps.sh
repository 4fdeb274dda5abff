#!/usr/bin/env bash
# Debian packages the test suites need: Chromium (end-to-end and interop tests), redis-server
# (scale-out tests), Glewlwyd with the sqlite3 tool (interop tests, a second OpenID Provider) and
# openssl (the test certificates of the FAPI suite and the mTLS checks, made by test/support/pki.sh).
# Installs only what is missing; needs root (as on CI) or sudo.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
glewlwyd=0
command -v glewlwyd >/dev/null 2>&1 || { need+=(glewlwyd dbconfig-no-thanks); glewlwyd=1; }
command -v sqlite3 >/dev/null 2>&1 || need+=(sqlite3)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
[ ${#need[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# The interop tests start Glewlwyd themselves, with their own config and database: install the
# package unconfigured (no system database through dbconfig-common).
if [ $glewlwyd -eq 1 ]; then
  echo 'glewlwyd glewlwyd/config_type select No configuration' | $SUDO debconf-set-selections
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# ... and without the packaged system service, which would hold port 4593.
if [ $glewlwyd -eq 1 ] && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now glewlwyd.service >/dev/null 2>&1 || true
fi
