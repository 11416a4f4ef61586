#!/bin/sh
# Every lms_ function the library exports must be declared in the header and called by the C
# tests, and the header must declare nothing the library lacks.
# usage: check-exports.sh LIBRARY.so HEADER TEST.c...
set -eu
lib=$1 header=$2
shift 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

nm -D --defined-only "$lib" | awk '$2 == "T" && $3 ~ /^lms_/ { print $3 }' | sort -u > "$tmp/exported"
grep -oE '\blms_[a-z0-9_]+\(' "$header" | tr -d '(' | sort -u > "$tmp/declared"
status=0
if ! cmp -s "$tmp/exported" "$tmp/declared"; then
    echo "exported (<) and declared (>) functions differ:" >&2
    diff "$tmp/exported" "$tmp/declared" >&2 || true
    status=1
fi
while read -r fn; do
    if ! cat "$@" | grep -qE "\\b$fn\\("; then
        echo "not called by $*: $fn" >&2
        status=1
    fi
done < "$tmp/exported"
[ $status -eq 0 ] && echo "exports: $(wc -l < "$tmp/exported") functions, all declared and tested"
exit $status
