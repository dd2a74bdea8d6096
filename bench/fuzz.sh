#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Longer fuzzing runs than CI's corpus replay: builds the libFuzzer targets with clang in
# build-fuzz and runs one for SECONDS (default 300) on a copy of its seed corpus, so the checked-in
# corpus stays small. Crashes land in build-fuzz/artifacts/; add them to tests/fuzz/corpus/NAME/.
# usage: bench/fuzz.sh [NAME] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:-fuzz_voucher}
seconds=${2:-300}
CC=clang cmake -S . -B build-fuzz -DPATRON_FUZZ=ON -DPATRON_BENCH=OFF >/dev/null
cmake --build build-fuzz -j2 --target "$name"
work=build-fuzz/corpus-$name
mkdir -p "$work" build-fuzz/artifacts
cp -n tests/fuzz/corpus/"$name"/* "$work"/
./build-fuzz/tests/fuzz/"$name" -max_total_time="$seconds" -max_len=600 \
  -artifact_prefix=build-fuzz/artifacts/ "$work"
