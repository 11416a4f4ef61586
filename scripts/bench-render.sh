#!/usr/bin/env bash
# Rendering benchmark: Python Jinja2 (reference coercion, compiled template cached) against the
# C ABI (cache warm) and minijinja called directly, over the differential corpus; prints the
# per-case figures and the ratios. RENDER_BENCH_SECONDS (per case and renderer, default 0.05).
set -euo pipefail
cd "$(dirname "$0")/.."
py=$(scripts/python-env.sh)
export RENDER_BENCH_DIR="$PWD/build/render-bench"
mkdir -p "$RENDER_BENCH_DIR"
"$py" tests/render/bench.py "$RENDER_BENCH_DIR/corpus.msgpack" "$RENDER_BENCH_DIR/python.json" \
  "${RENDER_BENCH_SECONDS:-0.05}"
cargo bench --bench render
