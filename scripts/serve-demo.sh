#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what is missing, builds Patron, and starts the counter service on a demo store in
# ./var/serve-demo: three members with points, two rewards, and a till token printed once.
# Stop it with Ctrl-C (it finishes in-flight requests first). Try the README's curl lines.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" >/dev/null

export PATRON_HOME="$PWD/var/serve-demo"
mkdir -p "$PATRON_HOME"
exec ./build/patron serve --demo --listen "${PATRON_LISTEN:-127.0.0.1:8420}"
