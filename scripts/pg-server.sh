#!/usr/bin/env bash
# A private PostgreSQL server for the tests and benchmarks of the PostgreSQL backend.
#
#   scripts/pg-server.sh start    install PostgreSQL from Debian's packages if absent, create
#                                 (once) and start a server of our own; prints export lines
#   scripts/pg-server.sh stop     stop it (fast shutdown)
#   scripts/pg-server.sh kill     SIGKILL the postmaster and its backends (crash tests)
#   scripts/pg-server.sh url      print the URL of the running server
#   scripts/pg-server.sh test     fresh server, every PostgreSQL test, server stopped at the end
#
# The server runs as a non-root user (the `postgres` system user when we are root), keeps its
# data under build/pg (or a private directory under /tmp when that user cannot reach build/),
# and listens only on a Unix socket in its data directory: nothing else on the machine can
# reach it and several worktrees can run one each. Authentication is `trust` for that socket.
#
# fsync is off unless LMSTORE_PG_FSYNC=on (the benchmark sets it): every commit still reaches
# the operating system before it is acknowledged (synchronous_commit stays on), which is what
# survives a killed server; only a power loss needs the flush, and no test simulates one.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
base="$root/build/pg"
port=${LMSTORE_PG_PORT:-54329}
fsync=${LMSTORE_PG_FSYNC:-off}
mkdir -p "$base"

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$d" ] || [ ! -x "$d/pg_ctl" ]; then
    echo "pg-server: installing PostgreSQL from Debian's packages" >&2
    if [ "$(id -u)" -ne 0 ]; then
      echo "pg-server: PostgreSQL is not installed and we are not root to install it" >&2
      return 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2 </dev/null
    apt-get install -y -q --no-install-recommends postgresql >&2 </dev/null
    d=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  echo "$d"
}

# Who runs the server: never root (initdb refuses it).
server_user() {
  if [ "$(id -u)" -ne 0 ]; then
    id -un
    return
  fi
  if ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  fi
  echo postgres
}

as_user() {
  local user=$1
  shift
  if [ "$(id -un)" = "$user" ]; then
    "$@"
  else
    runuser -u "$user" -- "$@"
  fi
}

# The data directory: build/pg/data when the server user can reach it, else a directory of
# its own under /tmp (a checkout under /root is closed to other users). Remembered in
# build/pg/location so every command finds the same one.
data_dir() {
  local user=$1 dir
  if [ -f "$base/location" ]; then
    cat "$base/location"
    return
  fi
  dir="$base/data"
  mkdir -p "$dir"
  chown "$user" "$dir" 2>/dev/null || true
  chmod 700 "$dir"
  # Unix socket paths are limited to 107 bytes.
  if ! as_user "$user" test -w "$dir" || [ ${#dir} -gt 80 ]; then
    rmdir "$dir" 2>/dev/null || true
    dir=$(mktemp -d /tmp/lmstore-pg.XXXXXX)
    chown "$user" "$dir"
  fi
  echo "$dir" >"$base/location"
  echo "$dir"
}

url_of() {
  echo "postgres:///lmstore?host=$1&port=$port&user=postgres"
}

cmd_start() {
  local bin user dir
  bin=$(pg_bin)
  user=$(server_user)
  dir=$(data_dir "$user")
  if [ ! -f "$dir/PG_VERSION" ]; then
    as_user "$user" "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C >"$base/initdb.log"
  fi
  if ! as_user "$user" "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    # After a SIGKILL the old backends may still hold the shared memory for a moment.
    local tries=0
    until as_user "$user" "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start \
      -o "-c listen_addresses='' -c unix_socket_directories='$dir' -p $port -c max_connections=200 -c shared_buffers=64MB -c fsync=$fsync" >/dev/null; do
      tries=$((tries + 1))
      if [ $tries -ge 10 ]; then
        tail -n 20 "$dir/server.log" >&2
        return 1
      fi
      sleep 1
    done
  fi
  if ! as_user "$user" "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -qtAc \
    "SELECT 1 FROM pg_database WHERE datname = 'lmstore'" | grep -q 1; then
    as_user "$user" "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -qc "CREATE DATABASE lmstore" >/dev/null
  fi
  echo "export LMSTORE_TEST_PG_URL='$(url_of "$dir")'"
}

cmd_stop() {
  local bin user dir
  [ -f "$base/location" ] || return 0
  bin=$(pg_bin)
  user=$(server_user)
  dir=$(cat "$base/location")
  if as_user "$user" "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    as_user "$user" "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null
  fi
}

cmd_kill() {
  local dir pid
  dir=$(cat "$base/location")
  pid=$(head -n 1 "$dir/postmaster.pid")
  # The backends first, so none is left to finish a commit after the postmaster is gone.
  pkill -KILL -P "$pid" || true
  kill -KILL "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
}

cmd_reset() {
  cmd_stop
  if [ -f "$base/location" ]; then
    rm -rf "$(cat "$base/location")"
    rm -f "$base/location"
  fi
}

cmd_test() {
  cmd_reset
  eval "$(cmd_start)"
  export LMSTORE_TEST_PG_URL
  trap cmd_stop EXIT
  echo "pg-server: testing against $LMSTORE_TEST_PG_URL"
  tests/pg/run.sh
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
kill) cmd_kill ;;
reset) cmd_reset ;;
url) url_of "$(cat "$base/location")" ;;
test) cmd_test ;;
*)
  echo "usage: $0 start|stop|kill|reset|url|test" >&2
  exit 2
  ;;
esac
