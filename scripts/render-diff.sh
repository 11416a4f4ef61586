#!/usr/bin/env bash
# The rendering differential test: every corpus case through real Jinja2 3.1 + PyYAML (the
# reference in tests/render/reference.py) and through the release library's C ABI; then the
# yaml filter against PyYAML's CSafeDumper on random values. Knobs: RENDER_YAML_CASES (400),
# RENDER_SEED (8).
set -euo pipefail
cd "$(dirname "$0")/.."
py=$(scripts/python-env.sh)
[ -f target/release/liblmstore.so ] || cargo build --release
exec "$py" tests/render/diff.py target/release/liblmstore.so
