#!/usr/bin/env bash
# Rust half of the test command: formatting, lints, the core's tests against both LMDB builds,
# and the release library that the C, Go and Node tests load.
set -euo pipefail
cd "$(dirname "$0")/.."
export LIBLMDB_NO_PKG_CONFIG=1

cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo test
# lmdb-sys (LMDB 0.9.21) instead of lmdb-master-sys: the same target dir, so only the two LMDB
# crates and lmstore compile again (the other dependencies are reused).
cargo test --no-default-features --features lmdb-legacy \
  --test templates --test conversations --test env --test crash --test pages --test consistency
cargo build --release
