#!/usr/bin/env bash
# The private PostgreSQL server the PostgreSQL tests share (tests/lib/pg.sh):
# starts as the unprivileged user on a free loopback port, takes a pgbench
# TPC-B-like load, and stops by PID leaving nothing behind.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
. tests/lib/pg.sh

test_pg_server_starts_serves_and_stops() {
  pg_start || { fail "pg_start"; return; }
  local pid=$PG_PID dir=$PG_DIR
  [ "$(psql "$PG_URI" -Atc 'SHOW server_version_num')" -ge 150000 ] || fail "not PostgreSQL 15+"
  [ "$(psql "$PG_URI" -Atc "SELECT usesuper FROM pg_user WHERE usename = current_user")" = t ] ||
    fail "the test role is not a superuser"
  [ "$(ps -o user= -p "$pid" | tr -d ' ')" != root ] || fail "the server runs as root"
  "$PG_BIN/pgbench" -i -s 1 -q "$PG_URI" >/dev/null 2>&1 || fail "pgbench -i"
  local out; out=$("$PG_BIN/pgbench" -c 4 -j 2 -T 2 "$PG_URI" 2>&1)
  echo "$out" | grep -q "number of failed transactions: 0 " || fail "pgbench: $out"
  pg_stop
  kill -0 "$pid" 2>/dev/null && fail "server $pid still running after pg_stop"
  [ ! -e "$dir" ] || fail "$dir left behind"
}

run_tests
