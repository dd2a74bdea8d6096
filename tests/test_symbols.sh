#!/bin/sh
# SPDX-License-Identifier: MIT
# The shared libpatron exports exactly the public API: every function (and the one table) that
# include/patron/*.h marks PATRON_EXPORT, and nothing else (no patron__ internal, no helper of the
# printer transports). Usage: test_symbols.sh LIBPATRON_SO INCLUDE_DIR
set -eu
lib=$1
inc=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Defined dynamic symbols; names starting with "_" are the linker's own (_init, _end, ...).
nm -D --defined-only "$lib" | awk 'NF == 3 && $3 !~ /^_/ { print $3 }' | sort -u >"$tmp/exported"
# The name in each marked declaration: the last word before "(" or "[" on its first line.
grep -h -E '^(extern )?PATRON_EXPORT ' "$inc"/*.h | sed -E 's/[([].*//; s/.*[ *]//' |
    sort -u >"$tmp/declared"

status=0
if ! [ -s "$tmp/declared" ] || [ "$(wc -l <"$tmp/declared")" -lt 100 ]; then
    echo "too few PATRON_EXPORT declarations found in $inc" >&2
    status=1
fi
# A public declaration without the mark would be hidden from the shared library.
unmarked=$(grep -n -E '^(extern )?(const |unsigned |struct |enum )*[a-z_0-9]+[ *]+patron_[a-z0-9_]+[([]' \
    "$inc"/*.h | grep -v -E 'PATRON_EXPORT|typedef' || true)
if [ -n "$unmarked" ]; then
    echo "public declarations without PATRON_EXPORT:" >&2
    echo "$unmarked" >&2
    status=1
fi
extra=$(comm -23 "$tmp/exported" "$tmp/declared")
missing=$(comm -13 "$tmp/exported" "$tmp/declared")
if [ -n "$extra" ]; then
    echo "exported but not public API:" >&2
    echo "$extra" >&2
    status=1
fi
if [ -n "$missing" ]; then
    echo "public API but not exported:" >&2
    echo "$missing" >&2
    status=1
fi
[ $status -eq 0 ] && echo "libpatron exports exactly $(wc -l <"$tmp/declared") public symbols"
exit $status
