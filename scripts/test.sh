#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what is missing, runs the static checks (scripts/lint.sh), then builds and runs the
# whole test suite in two lanes, gcc Release with warnings as errors and clang with
# AddressSanitizer + UndefinedBehaviorSanitizer, and the counter service's tests (label api)
# under ThreadSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# The webhook tests' receiver (tests/webhooks) verifies signatures with the npm package
# standardwebhooks, installed exactly as its lock file says.
(cd tests/webhooks && npm ci --no-audit --no-fund)
jobs=$(nproc)
# The browser tests' packages (playwright-core, @axe-core/playwright), pinned by the lock file.
(cd web/test && npm ci --no-audit --no-fund)

lane() { # name, then cmake options
  local dir="build-$1"; shift
  echo "=== lane ${dir#build-} ==="
  cmake -S . -B "$dir" -DPATRON_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs"
}

# The static checks come first: they are quick, and a finding there needs no test run.
echo "=== lane static checks ==="
bash scripts/lint.sh

CC=gcc lane release -DCMAKE_BUILD_TYPE=Release
CC=clang lane asan -DCMAKE_BUILD_TYPE=Debug -DPATRON_SANITIZE=ON

# The counter service is the threaded part: its tests run under ThreadSanitizer, and a report
# in the service (a child process) makes it exit non-zero, which fails the test.
echo "=== lane tsan (label api) ==="
CC=clang cmake -S . -B build-tsan -DPATRON_WERROR=ON -DCMAKE_BUILD_TYPE=Debug -DPATRON_TSAN=ON \
  >/dev/null
cmake --build build-tsan -j "$jobs" --target patron-cli test_api test_api_voucher \
  test_api_print test_api_load test_api_crash test_api_member test_api_market test_api_erase_busy \
  test_api_disk \
  test_api_http test_print_start test_api_sync \
  test_api_display test_webhooks test_api_wallet test_api_events test_api_web \
  test_chain_api test_chain_pool test_api_import test_chain_refund test_chain_screen
TSAN_OPTIONS="halt_on_error=1 exitcode=66" ctest --test-dir build-tsan --output-on-failure -L api
