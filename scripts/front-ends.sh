#!/bin/sh
# SPDX-License-Identifier: MIT
# The front ends (the API in src/api, the CLI in src/cli) go through libpatron's public calls
# only: neither includes <sqlite3.h> nor takes the store's SQLite handle (patron_store_sqlite),
# and neither talks to the library through its own environment (setenv, putenv): folders and
# settings are passed as arguments.
# Prints each use found and exits 1. usage: scripts/front-ends.sh [SOURCE_DIR]
set -eu
cd "${1:-$(dirname "$0")/..}"
files=$(find src/api src/cli -name '*.[ch]' | sort)
# shellcheck disable=SC2086
if found=$(grep -nE 'patron_store_sqlite|sqlite3|[^_[:alnum:]](setenv|putenv)[[:space:]]*\(' $files); then
    echo "the front ends go around the library (give it a public call or an argument):" >&2
    echo "$found" >&2
    exit 1
fi
echo "the front ends use no SQLite and set no environment ($(echo "$files" | wc -l) files)"
