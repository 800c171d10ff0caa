#!/usr/bin/env bash
# Installs the Debian 12 packages veche builds and tests with (idempotent, as root).
set -euo pipefail
PKGS="build-essential cmake pkg-config clang libsodium-dev liblmdb-dev libuv1-dev
      libmicrohttpd-dev libjansson-dev libcmocka-dev python3 iproute2 procps curl"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "veche: installing:$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi
