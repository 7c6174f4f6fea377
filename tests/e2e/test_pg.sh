#!/usr/bin/env bash
# PostgreSQL: the private server the tests share (tests/lib/pg.sh) and the
# driver's statement contract against it.
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

TOOLS=$(dirname "$SEGUE")/tools
shared_pg() { [ -n "${PG_PID:-}" ] || pg_start >/dev/null; }
trap pg_stop EXIT

# bound values of every type come back as they went in; transactions,
# change counts, abandoned results and errors (with SQLSTATE) behave
test_pg_statement_contract() {
  shared_pg || { fail "pg_start"; return; }
  local out; out=$("$TOOLS/driver_check" "$PG_URI") || fail "driver_check: $out"
  echo "$out" | grep -q "0 failed" || fail "driver_check: $out"
  out=$("$TOOLS/driver_check" "postgres://postgres@127.0.0.1:$PG_PORT/postgres") ||
    fail "the postgres:// scheme: $out"
  local d; d=$(scratch)
  out=$("$TOOLS/driver_check" "sqlite:$d/c.db") || fail "the same contract on SQLite: $out"
}

test_pg_errors_name_endpoint_and_hide_password() {
  shared_pg || { fail "pg_start"; return; }
  local out; out=$("$TOOLS/driver_check" "postgresql://postgres:s3cr3t@127.0.0.1:$PG_PORT/nope" 2>&1)
  echo "$out" | grep -q 'target: cannot connect to postgresql://postgres:\*\*\*@' ||
    fail "connect error: $out"
  echo "$out" | grep -q s3cr3t && fail "password in a message: $out"
  out=$("$TOOLS/driver_check" "postgresql:host=127.0.0.1 port=$PG_PORT dbname=nope user=postgres password=s3cr3t" 2>&1)
  echo "$out" | grep -q 'password=\*\*\*' || fail "key/value connect error: $out"
  echo "$out" | grep -q s3cr3t && fail "password in a message: $out"
}

# plan reads a PostgreSQL source: row counts, keys, and target DDL typed
# from the catalog (plain columns) and from the server (expressions)
test_pg_plan_reads_the_catalog() {
  shared_pg || { fail "pg_start"; return; }
  "$PG_BIN/pgbench" -i -s 1 -q "$PG_URI" >/dev/null 2>&1 || { fail "pgbench -i"; return; }
  local d; d=$(scratch)
  cat > "$d/m.yaml" <<YAML
version: 1
name: pgplan
source: $PG_URI
target: $PG_URI
mappings:
  - from: pgbench_accounts
    to: accounts_v2
    create: true
    columns:
      aid: aid
      bid: bid
      balance_cents: abalance * 100
      filler: filler
YAML
  local out; out=$($SEGUE plan "$d/m.yaml") || fail "plan exited $?: $out"
  echo "$out" | grep -q "pgbench_accounts -> accounts_v2: 100000 source rows" || fail "plan counts: $out"
  echo "$out" | grep -qF '"aid" integer NOT NULL, "bid" integer, "balance_cents" integer, "filler" character(84), PRIMARY KEY ("aid")' ||
    fail "plan DDL: $out"
  local before; before=$(psql -Atq "$PG_URI" -c "SELECT string_agg(schemaname || '.' || tablename, ',' ORDER BY 1) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")
  sed -i 's/      balance_cents: abalance \* 100/      balance_cents: no_such_column * 100/' "$d/m.yaml"
  out=$($SEGUE plan "$d/m.yaml" 2>&1); local rc=$?
  [ $rc = 2 ] || fail "bad expression: exit $rc"
  echo "$out" | grep -q "m.yaml:12: the source rejects the expression of column 'balance_cents'.*SQLSTATE 42703" ||
    fail "bad expression message: $out"
  [ "$(psql -Atq "$PG_URI" -c "SELECT string_agg(schemaname || '.' || tablename, ',' ORDER BY 1) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")" = "$before" ] ||
    fail "plan changed the database"
}

run_tests
