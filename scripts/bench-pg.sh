#!/usr/bin/env bash
# The PostgreSQL benchmark (benches/postgres.rs) on a private server with fsync on, so
# "durable" means flushed to disk for every store measured. The server is stopped at the end.
# LMSTORE_BENCH_SCALE=smoke runs it tiny.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/pg-server.sh stop
eval "$(LMSTORE_PG_FSYNC=on scripts/pg-server.sh start)"
export LMSTORE_TEST_PG_URL
trap 'scripts/pg-server.sh stop' EXIT
cargo bench --bench postgres
