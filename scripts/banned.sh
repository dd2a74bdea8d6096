#!/bin/sh
# SPDX-License-Identifier: MIT
# Functions the project's C code does not call: unbounded copies and formats (strcpy, strcat,
# sprintf, vsprintf, gets), their truncating cousins that leave strings unterminated or hide the
# cut (strncpy, strncat), hidden global state (strtok), unsafe temporary names (tmpnam, tempnam,
# mktemp) and unbounded stack (alloca). Use snprintf, memcpy after a length check, strtok_r,
# mkstemp. Prints each call found and exits 1. usage: scripts/banned.sh [SOURCE_DIR]
set -eu
cd "${1:-$(dirname "$0")/..}"
banned='gets|strcpy|strcat|sprintf|vsprintf|strncpy|strncat|strtok|tmpnam|tempnam|mktemp|alloca'
# A call is the name not preceded by an identifier character, '.' or '->', then '('.
pattern="(^|[^[:alnum:]_.>])($banned)[[:space:]]*\\("
files=$(find src include firmware-host tests bench -name '*.[ch]' -not -path 'tests/fuzz/corpus/*' | sort)
# shellcheck disable=SC2086
if found=$(grep -nE "$pattern" $files); then
    echo "banned functions called:" >&2
    echo "$found" >&2
    exit 1
fi
echo "no banned function is called ($(echo "$files" | wc -l) files)"
