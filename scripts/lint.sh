#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Static checks of the project's own C code: clang-format (the house format, .clang-format), no
# banned function (scripts/banned.sh), no SQLite in the front ends (src/api, src/cli), the
# library's layers (scripts/layers.sh), cppcheck, and clang-tidy (.clang-tidy) over the compile
# commands of a build. Exits non-zero on any finding.
# usage: scripts/lint.sh [BUILD_DIR]   (default build-lint, configured here)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-lint}
sources=$(git ls-files '*.c' '*.h' | grep -v '^tests/fuzz/corpus/')

echo "--- clang-format"
clang-format --dry-run --Werror $sources

echo "--- banned functions"
sh scripts/banned.sh

echo "--- front ends go through the library"
sh scripts/front-ends.sh

echo "--- layers: no lower layer includes a higher one"
sh scripts/layers.sh

echo "--- cppcheck"
cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability --inline-suppr \
  --suppress=missingIncludeSystem -D__GNUC__ -I include -I src -I firmware-host \
  src firmware-host tests bench

echo "--- clang-tidy"
if [ ! -f "$build/compile_commands.json" ]; then
  CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug >/dev/null
fi
git ls-files 'src/*.c' 'firmware-host/*.c' |
  xargs -P "$(nproc)" -n 8 clang-tidy -p "$build" --quiet 2>/dev/null
echo "static checks clean"
