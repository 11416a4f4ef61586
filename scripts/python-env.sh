#!/usr/bin/env bash
# Creates (once) the virtualenv the Python reference tests use, under build/venv, and prints
# its python. Idempotent: a venv whose requirements are unchanged is reused.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=build/venv
req=tests/python/requirements.txt
stamp="$venv/.requirements"
# Tests run in parallel and each may be the first to ask: one creates, the others wait.
mkdir -p build
exec 9>build/.venv.lock
flock 9
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$req" "$stamp"; then
  python3 -m venv "$venv" >&2
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req" >&2 </dev/null
  cp "$req" "$stamp"
fi
echo "$PWD/$venv/bin/python"
