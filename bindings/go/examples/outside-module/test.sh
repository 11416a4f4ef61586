#!/usr/bin/env bash
# Builds this module from OUTSIDE the repository, the way a Go user would, and checks that it
# reads what the C demo wrote. Two ways of linking are checked:
#   1. the default: a `replace` to a clone, static link of the clone's target/release build;
#   2. -tags lmstore_pkgconfig against `make install PREFIX=...`, still static (no
#      liblmstore.so needed at run time).
# Needs the Go environment test.sh sets up (GOCACHE etc.); runs on its own too.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
gomod=$(cd "$here/../.." && pwd)      # bindings/go
repo=$(cd "$gomod/../.." && pwd)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lmstore-outside.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "== C demo writes a store"
make -s -C "$repo" demo DEMO_DIR="$tmp/store" >"$tmp/demo.log" 2>&1 || { cat "$tmp/demo.log"; exit 1; }

echo "== outside module, default (static, repository build)"
cp -r "$here" "$tmp/outside"
rm -f "$tmp/outside/test.sh"
(cd "$tmp/outside" && go mod edit -replace "github.com/lmstore/lmstore/bindings/go=$gomod")
(cd "$tmp/outside" && go build -o "$tmp/outside-bin" .)
"$tmp/outside-bin" "$tmp/store" | tee "$tmp/out.txt"

check() {
	for want in "template greeting: 2 versions" "alias production -> 1.0.0" "session demo-session: 5 messages"; do
		if ! grep -q "$want" "$1"; then
			echo "FAIL: output lacks '$want'" >&2
			exit 1
		fi
	done
}
check "$tmp/out.txt"
if ldd "$tmp/outside-bin" 2>/dev/null | grep -q liblmstore; then
	echo "FAIL: default build links liblmstore.so dynamically" >&2
	exit 1
fi

echo "== outside module, fully static binary (-linkmode external -extldflags -static)"
# The link warns that glibc's getpwuid_r/getaddrinfo need glibc's shared libraries at run time:
# Rust's std links them, lmstore never calls them.
(cd "$tmp/outside" && go build -ldflags '-linkmode external -extldflags "-static"' -o "$tmp/outside-static" . 2>"$tmp/static.log") || { cat "$tmp/static.log"; exit 1; }
if ! file "$tmp/outside-static" | grep -q 'statically linked'; then
	echo "FAIL: -extldflags -static did not give a static binary: $(file "$tmp/outside-static")" >&2
	exit 1
fi
"$tmp/outside-static" "$tmp/store" >"$tmp/out-static.txt"
check "$tmp/out-static.txt"

echo "== outside module, -tags lmstore_pkgconfig against make install"
make -s -C "$repo" install PREFIX="$tmp/prefix" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; exit 1; }
(cd "$tmp/outside" && PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" go build -tags lmstore_pkgconfig -o "$tmp/outside-pc" .)
if ldd "$tmp/outside-pc" 2>/dev/null | grep -q liblmstore; then
	echo "FAIL: pkg-config build needs liblmstore.so at run time" >&2
	exit 1
fi
"$tmp/outside-pc" "$tmp/store" >"$tmp/out-pc.txt"
check "$tmp/out-pc.txt"
echo "outside module: ok (static by default, fully static with -extldflags -static, and through pkg-config)"
