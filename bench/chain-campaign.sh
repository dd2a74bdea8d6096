#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the chain campaign (tests/chain_campaign.c) for SECONDS, one seed after another against one
# throwaway PostgreSQL, and says how many seeds ran clean. A failing seed prints the command that
# replays it.
#   bench/chain-campaign.sh SECONDS [FIRST_SEED]   (FIRST_SEED: default from the clock, so that
#                                                  successive runs try new seeds)
#   PATRON_BUILD=DIR   the build to use (default build/, configured with tests; built if needed)
#   STEPS=N            steps per seed (default 80)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:?usage: bench/chain-campaign.sh SECONDS [FIRST_SEED]}
first=${2:-$(($(date +%s) % 100000000))}
build=${PATRON_BUILD:-build}
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build" -j "$(nproc)" --target patron-cli chain_campaign >/dev/null
mkdir -p "$build/tests/campaign-tmp"
PATRON_BIN="$PWD/$build/patron" TMPDIR="$PWD/$build/tests/campaign-tmp" \
  "$build/tests/chain_campaign" --first "$first" --seconds "$seconds" --steps "${STEPS:-80}" --quiet
