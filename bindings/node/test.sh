#!/usr/bin/env bash
# The Node package's whole check, as the top-level test command calls it: installs the locked
# dependencies, builds liblmstore if it is missing, type-checks the typed example, runs the
# tests with Node's own runner, and runs the benchmark in smoke mode.
# Works without HOME: npm's cache is pinned inside the repository's build/ folder.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$here"

export npm_config_cache="${npm_config_cache:-$root/build/npm-cache}"
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
# better-sqlite3 (bench only) compiles from source when its prebuilt download is unreachable;
# the Node headers shipped with the distribution spare node-gyp a download.
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node.h ]; then
  export npm_config_nodedir=/usr
fi
mkdir -p "$npm_config_cache"

if [ ! -f "$root/target/release/liblmstore.so" ]; then
  echo "test.sh: building liblmstore (cargo build --release)"
  (cd "$root" && cargo build --release)
fi
# Tests load exactly the repository build; the pack test unsets this to prove the tarball
# carries its own copy.
export LMSTORE_LIB="${LMSTORE_LIB:-$root/target/release/liblmstore.so}"

npm ci --no-audit --no-fund --loglevel=error
npx --no-install tsc --noEmit -p examples/tsconfig.json
echo "test.sh: tsc --noEmit examples/typed.ts: ok"

node --test test/*.test.js

# The benchmark's rivals live in bench/ with their own lockfile. If they cannot be installed
# here, the smoke run still exercises lmstore's side and says which columns it skipped.
if (cd bench && npm ci --no-audit --no-fund --loglevel=error); then :; else
  echo "test.sh: bench dependencies could not be installed; smoke-running lmstore alone"
fi
(cd bench && node bench.js --smoke)
