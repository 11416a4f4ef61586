#!/bin/sh
# Installs into a throwaway prefix and builds examples/demo.c the way a user would: with
# nothing but what pkg-config reports, once against the shared and once against the static
# library, then runs both.
set -eu
cd "$(dirname "$0")/../.."
CC=${CC:-cc}
MAKE=${MAKE:-make}
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT

$MAKE --no-print-directory install PREFIX="$prefix" >"$prefix/install.log"
grep -q 'runtime linker' "$prefix/install.log" ||
    { echo "install-test: make install printed no runtime-linker hint" >&2; exit 1; }
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"

for f in include/lmstore.h lib/liblmstore.a lib/liblmstore.so lib/liblmstore.so.0 lib/pkgconfig/lmstore.pc; do
    [ -e "$prefix/$f" ] || { echo "install-test: missing $prefix/$f" >&2; exit 1; }
done
# the command-line tool is installed beside the library and runs from the prefix
"$prefix/bin/lmstore" --version | grep -q '^lmstore' || { echo "install-test: bin/lmstore does not run" >&2; exit 1; }
"$prefix/bin/lmstore" --store "$prefix/no-store" stat >/dev/null 2>&1 && { echo "install-test: stat of a missing store succeeded" >&2; exit 1; }
[ "$(readlink "$prefix/lib/liblmstore.so")" = liblmstore.so.0 ] || { echo "install-test: bad .so link" >&2; exit 1; }
test "$(pkg-config --modversion lmstore)" = "$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)"

# shared
$CC -std=c99 -Wall -Wextra -Werror -pedantic -o "$prefix/demo-shared" examples/demo.c \
    $(pkg-config --cflags --libs lmstore)
readelf -d "$prefix/demo-shared" | grep -q 'NEEDED.*\[liblmstore.so.0\]' ||
    { echo "install-test: demo-shared does not need liblmstore.so.0" >&2; exit 1; }
LD_LIBRARY_PATH="$prefix/lib" "$prefix/demo-shared" "$prefix/store-shared" >/dev/null

# static: -Bstatic makes the first -llmstore pick liblmstore.a, then the --static list
# supplies what the archive needs; its own -llmstore is already satisfied, and --as-needed
# keeps the shared library from being recorded as a dependency anyway.
$CC -std=c99 -Wall -Wextra -Werror -pedantic -o "$prefix/demo-static" examples/demo.c \
    $(pkg-config --cflags lmstore) -Wl,--as-needed \
    -Wl,-Bstatic $(pkg-config --libs lmstore) -Wl,-Bdynamic $(pkg-config --static --libs lmstore)
if readelf -d "$prefix/demo-static" | grep -q 'NEEDED.*liblmstore'; then
    echo "install-test: demo-static still needs liblmstore.so" >&2
    exit 1
fi
env -u LD_LIBRARY_PATH "$prefix/demo-static" "$prefix/store-static" >/dev/null
# fully static: what `pkg-config --static --libs` lists is all a -static link needs.
$CC -std=c99 -Wall -Wextra -Werror -pedantic -static -o "$prefix/demo-full-static" examples/demo.c \
    $(pkg-config --cflags --static --libs lmstore) 2>"$prefix/static.log" ||
    { cat "$prefix/static.log" >&2; echo "install-test: -static link with pkg-config --static failed" >&2; exit 1; }
if readelf -d "$prefix/demo-full-static" 2>/dev/null | grep -q NEEDED; then
    echo "install-test: demo-full-static has dynamic dependencies" >&2
    exit 1
fi
env -u LD_LIBRARY_PATH "$prefix/demo-full-static" "$prefix/store-full-static" >/dev/null
echo "install-test: pkg-config shared, static and fully static (-static) builds of the demo ran"
