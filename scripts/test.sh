#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what is missing, builds and runs the whole test suite in two lanes: gcc Release with
# warnings as errors, and clang with AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=$(nproc)

lane() { # name, then cmake options
  local dir="build-$1"; shift
  echo "=== lane ${dir#build-} ==="
  cmake -S . -B "$dir" -DPATRON_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs"
}

CC=gcc lane release -DCMAKE_BUILD_TYPE=Release
CC=clang lane asan -DCMAKE_BUILD_TYPE=Debug -DPATRON_SANITIZE=ON
