#!/usr/bin/env bash
# The lmstore command-line tool (cli/, a workspace member): formatting, lints and its tests,
# which run the real binary against real stores (tmux for the terminal test, installed here
# when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
export LIBLMDB_NO_PKG_CONFIG=1
if ! command -v tmux >/dev/null 2>&1; then
  (apt-get update -qq && apt-get install -y -qq tmux) >/dev/null 2>&1 \
    || echo "warning: tmux could not be installed; the terminal test will fail" >&2
fi
cargo fmt --all --check
cargo clippy -p lmstore-cli --all-targets -- -D warnings
cargo test -p lmstore-cli
