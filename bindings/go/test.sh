#!/usr/bin/env bash
# The Go binding's whole check, as the top-level `make test` runs it: format, vet, the race
# tests and examples, the outside-module test against the C demo's store, and a smoke run of
# the benchmarks. Needs only Go, cargo and a C compiler; works without HOME and with nothing
# cached, keeping every Go cache under build/go/ at the repository root.
#
#   bindings/go/test.sh            # everything
#   BENCH=full bindings/go/test.sh # benchmarks with the real benchtime (about five minutes more)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	export PATH="/usr/local/go/bin:$PATH"
fi
cache="$repo/build/go"
mkdir -p "$cache"
export GOPATH="$cache/path"
export GOMODCACHE="$cache/mod"
export GOCACHE="$cache/cache"
export GOFLAGS=-mod=mod
export GOTOOLCHAIN=local
export CGO_ENABLED=1
export TMPDIR="${TMPDIR:-/tmp}"
# HOME is left alone: Go needs nothing from it with the variables above, and cargo/rustup
# (run by `make demo`) find their toolchain from the password database when it is unset.

step() { printf '\n== %s\n' "$*"; }

# Rebuilt when missing or older than the header: the package calls functions the header
# declares (lms_*_into), which an older archive may lack.
if [ ! -f "$repo/target/release/liblmstore.a" ] || [ "$repo/include/lmstore.h" -nt "$repo/target/release/liblmstore.a" ]; then
	step "building liblmstore (cargo build --release)"
	(cd "$repo" && cargo build --release)
fi

cd "$here"
step "gofmt"
bad=$(gofmt -l .)
if [ -n "$bad" ]; then
	echo "gofmt would change:"
	echo "$bad"
	exit 1
fi

step "go vet (package, benchmarks, outside module)"
go vet ./...
(cd bench && go vet ./...)
(cd examples/outside-module && go vet ./...)

step "CGO_ENABLED=0: the build stops with an error that says cgo is needed"
if out=$(CGO_ENABLED=0 go build . 2>&1); then
	echo "FAIL: CGO_ENABLED=0 go build succeeded" >&2
	exit 1
fi
if ! printf '%s\n' "$out" | sed -n 2p | grep -q 'lmstore_requires_cgo__build_with_CGO_ENABLED_1_and_a_C_compiler'; then
	echo "FAIL: the first error of a CGO_ENABLED=0 build does not say cgo is needed:" >&2
	printf '%s\n' "$out" >&2
	exit 1
fi
echo "ok: $(printf '%s\n' "$out" | sed -n 2p)"

step "go test -race ./... (tests and examples)"
go test -race -count=1 ./...

step "outside module reads the C demo's store"
examples/outside-module/test.sh

step "benchmarks (smoke unless BENCH=full)"
cd bench
if [ "${BENCH:-smoke}" = full ]; then
	go test -count=1 -run . -bench . -benchtime 1s .
	go run ./cmd/ratios
else
	go test -count=1 -run . -bench . -benchtime 1x .
	go run ./cmd/ratios -benchtime 1x -rounds 1
fi
echo
echo "bindings/go: all checks passed"
