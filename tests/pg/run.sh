#!/usr/bin/env bash
# Every test of the PostgreSQL backend, against the server in LMSTORE_TEST_PG_URL
# (scripts/pg-server.sh test starts one, runs this, and stops it). Nothing here is skipped:
# without the server every step fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
: "${LMSTORE_TEST_PG_URL:?no PostgreSQL server: run scripts/pg-server.sh test}"
export LMSTORE_TEST_PG_URL LIBLMDB_NO_PKG_CONFIG=1
# A store of its own on the server: a schema that lmstore creates on first use.
store_url() { echo "$LMSTORE_TEST_PG_URL&options=-csearch_path%3D$1_$$"; }
step() { printf '\n== pg: %s\n' "$*"; }

step "Rust domain tests (the LMDB run's test bodies) on PostgreSQL stores"
LMSTORE_TEST_BACKEND=pg cargo test --test conversations --test templates --test model --test dictionary \
  --test render --test import

step "opening by URL, errors, schema version, counters, several processes at once"
cargo test --test postgres -- --include-ignored --skip append_child

step "C tests of templates and conversations on PostgreSQL stores"
make -s lib build/test_lmstore_so build/demo
LMSTORE_TEST_BACKEND=pg ./build/test_lmstore_so templates messages sessions postgres

step "examples, unchanged, against a postgres:// URL"
url=$(store_url examples)
./build/demo "$url" >build/pg/demo.out
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
export GOPATH="$root/build/go/path" GOMODCACHE="$root/build/go/mod" GOCACHE="$root/build/go/cache"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=1
(cd bindings/go/examples/outside-module && go run . "$url") | tee build/pg/go.out
for want in "template greeting: 2 versions" "alias production -> 1.0.0" "session demo-session: 5 messages"; do
  grep -q "$want" build/pg/go.out || { echo "Go example: output lacks '$want'" >&2; exit 1; }
done
if [ ! -d bindings/node/node_modules/koffi ]; then
  (cd bindings/node && npm_config_cache="$root/build/npm-cache" npm ci --no-audit --no-fund --loglevel=error)
fi
LMSTORE_LIB="$root/target/release/liblmstore.so" node bindings/node/examples/basic.js "$(store_url node)" | tee build/pg/node.out
grep -q "assistant: Let me check." build/pg/node.out || { echo "Node example failed" >&2; exit 1; }

step "Go and Node open options (pool size, connect timeout) on PostgreSQL stores"
(cd bindings/go && go test -count=1 -run 'TestOpenPostgresOptions' -v . | tee "$root/build/pg/go-options.out")
grep -q -- "--- PASS: TestOpenPostgresOptions" build/pg/go-options.out || { echo "Go options test did not run" >&2; exit 1; }
LMSTORE_LIB="$root/target/release/liblmstore.so" node --test --test-name-pattern='PostgreSQL store' \
  bindings/node/test/options.test.js | tee build/pg/node-options.out
grep -q "^# pass 1" build/pg/node-options.out || { echo "Node options test did not run" >&2; exit 1; }

step "the lmstore CLI against a postgres:// URL"
cargo build -q -p lmstore-cli
lm() { "$root/target/debug/lmstore" --store "$(store_url cli)" "$@"; }
lm import tests/fixtures/seed-examples/promptlightning --json >build/pg/cli-import.json
grep -q '"imported":10' build/pg/cli-import.json || { echo "CLI import on PostgreSQL: $(cat build/pg/cli-import.json)" >&2; exit 1; }
[ "$(lm render summarizer --var input_text=Hello)" = "$(printf 'Summarize the following into exactly 3 bullet points:\n\nHello')" ] \
  || { echo "CLI render on PostgreSQL differs" >&2; exit 1; }
lm stat --json | grep -q '"template_ids":10' || { echo "CLI stat on PostgreSQL" >&2; exit 1; }
lm verify --json | grep -q '"ok":true' || { echo "CLI verify on PostgreSQL" >&2; exit 1; }
rm -rf build/pg/cli-copy
lm dump | "$root/target/debug/lmstore" --store build/pg/cli-copy restore >/dev/null
"$root/target/debug/lmstore" --store build/pg/cli-copy templates list --json | grep -q summarizer \
  || { echo "CLI dump from PostgreSQL, restore into LMDB" >&2; exit 1; }
if lm backup build/pg/cli-backup 2>build/pg/cli-backup.err; then echo "CLI backup of a PostgreSQL store succeeded" >&2; exit 1; fi
grep -q "PostgreSQL\|not supported\|unsupported" build/pg/cli-backup.err || { echo "CLI backup error: $(cat build/pg/cli-backup.err)" >&2; exit 1; }
echo "CLI on PostgreSQL: import, render, stat, verify, dump to LMDB, backup refused: ok"

# Kills and restarts the server, so it runs last.
step "the server killed with SIGKILL during appends from several processes"
cargo test --test pg_crash -- --include-ignored --skip crash_child
echo "pg: every PostgreSQL test passed"
