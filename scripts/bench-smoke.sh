#!/usr/bin/env bash
# Runs the benchmarks at a tiny scale, only to prove that they build and run end to end
# (stores created, every path exercised, results checked for completeness, temp dirs removed).
# It asserts nothing about speed: the figures a smoke run prints are meaningless.
# For real numbers: `cargo bench --bench templates` and `cargo bench --bench conversations`
# on a quiet machine (see docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/.."

export LMSTORE_BENCH_SCALE=smoke
# Keep the smoke stores out of the way of anything else using /tmp, and clean up after.
smoke_tmp="$(mktemp -d "${TMPDIR:-/tmp}/lmstore-bench-smoke.XXXXXX")"
trap 'rm -rf "$smoke_tmp"' EXIT
export TMPDIR="$smoke_tmp"

# One cargo call: the three benchmark binaries compile and link side by side.
cargo bench --bench templates --bench conversations --bench migrate
echo "bench-smoke: all benchmarks ran"
