#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs, from Debian 12's archive, everything Patron needs to build, run and test. Installs
# only what is missing; run as root or with sudo available.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang libclang-rt-14-dev clang-format clang-tidy cppcheck
  libsqlite3-dev sqlite3 libssl-dev libjansson-dev
  libqrencode-dev libusb-1.0-0-dev libpng-dev libmicrohttpd-dev
  libcmocka-dev umockdev libumockdev-dev zbar-tools libzbar-dev
  libcurl4-openssl-dev curl ca-certificates openssl
  console-setup-linux zlib1g-dev
  python3 python3-jsonschema python3-yaml
  postgresql libpq-dev
  valgrind linux-perf
  chromium
  libzip-dev unzip
)

# Node.js and npm run the browser and webhook tests' helpers: Debian's packages unless the machine
# already has both (a Node.js from elsewhere brings its own npm, which Debian's npm conflicts with).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
# The head office tests start their own throwaway PostgreSQL; Debian must not create (and try to
# run) a cluster of its own when the server is installed.
$SUDO mkdir -p /etc/postgresql-common
echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.conf >/dev/null
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
