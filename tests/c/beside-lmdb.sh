#!/bin/sh
# liblmstore.a exports only lms_* symbols, so a program links it beside its own LMDB: checks
# the archive's global symbols, then builds and runs tests/c/beside-lmdb.c against
# build/liblmstore.a and the system's static liblmdb (installed here when missing).
set -eu
cd "$(dirname "$0")/../.."
lib=build/liblmstore.a
others=$(nm -g --defined-only "$lib" 2>/dev/null | awk 'NF == 3 && $3 !~ /^lms_/ { print $3 }' | head -n 5)
if [ -n "$others" ]; then
    echo "beside-lmdb: $lib exports symbols other than lms_*, e.g.:" >&2
    echo "$others" >&2
    exit 1
fi
lmdb_a=$(ls /usr/lib/*/liblmdb.a /usr/lib/liblmdb.a 2>/dev/null | head -n 1 || true)
if [ -z "$lmdb_a" ] || [ ! -f /usr/include/lmdb.h ]; then
    if command -v apt-get >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -q liblmdb-dev >/dev/null 2>&1 ||
            { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q liblmdb-dev >/dev/null 2>&1; } || true
    fi
    lmdb_a=$(ls /usr/lib/*/liblmdb.a /usr/lib/liblmdb.a 2>/dev/null | head -n 1 || true)
fi
if [ -z "$lmdb_a" ]; then
    if [ "${CI:-}" = true ]; then
        echo "beside-lmdb: no system liblmdb.a and it could not be installed" >&2
        exit 1
    fi
    echo "beside-lmdb: SKIPPED (no system liblmdb.a; apt-get install liblmdb-dev)"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
${CC:-cc} -std=c99 -Wall -Wextra -Werror -Iinclude -o "$tmp/beside-lmdb" tests/c/beside-lmdb.c \
    "$lib" "$lmdb_a" -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
mkdir "$tmp/own"
"$tmp/beside-lmdb" "$tmp"
