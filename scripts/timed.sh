#!/usr/bin/env bash
# Runs one step of `make test` and prints how long it took, pass or fail.
name=$1; shift
start=$(date +%s)
"$@"; rc=$?
echo "== step $name: $(( $(date +%s) - start )) s (exit $rc)" >&2
exit $rc
