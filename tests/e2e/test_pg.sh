#!/usr/bin/env bash
# PostgreSQL: the private server the tests share (tests/lib/pg.sh) and the
# driver's statement contract against it.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
. tests/lib/pg.sh
. tests/e2e/pg_lib.sh

test_pg_server_starts_serves_and_stops() {
  # its own server, in a subshell so the shared one's variables stay intact
  local out; out=$(
    pg_start || { echo "pg_start failed"; exit 1; }
    pid=$PG_PID dir=$PG_DIR
    [ "$(psql "$PG_URI" -Atc 'SHOW server_version_num')" -ge 150000 ] || echo "not PostgreSQL 15+"
    [ "$(psql "$PG_URI" -Atc "SELECT usesuper FROM pg_user WHERE usename = current_user")" = t ] ||
      echo "the test role is not a superuser"
    [ "$(ps -o user= -p "$pid" | tr -d ' ')" != root ] || echo "the server runs as root"
    "$PG_BIN/pgbench" -i -s 1 -q "$PG_URI" >/dev/null 2>&1 || echo "pgbench -i failed"
    b=$("$PG_BIN/pgbench" -c 4 -j 2 -T 2 "$PG_URI" 2>&1)
    echo "$b" | grep -q "number of failed transactions: 0 " || echo "pgbench: $b"
    pg_stop
    kill -0 "$pid" 2>/dev/null && echo "server $pid still running after pg_stop"
    [ ! -e "$dir" ] || echo "$dir left behind"
  )
  [ -z "$out" ] || fail "$out"
}

TOOLS=$(dirname "$SEGUE")/tools

# the scale of the pgbench runs that the acceptance asks for (1M accounts)
SCALE=10

# a fresh database holding pgbench's tables at a scale, copied from a
# template that pgbench -i fills once per scale
pgbench_db() { # name scale
  local tpl=pgbench_s$2
  shared_pg || return 1
  if [ "$(psql -Atq "$PG_URI" -c "SELECT count(*) FROM pg_database WHERE datname = '$tpl'")" = 0 ]; then
    fresh_db "$tpl" && "$PG_BIN/pgbench" -i -s "$2" -q "$DB_URI" >/dev/null 2>&1 ||
      { psql -q "$PG_URI" -c "DROP DATABASE IF EXISTS $tpl" >/dev/null 2>&1; return 1; }
  fi
  fresh_db "$1" "$tpl"
}

# rows of mapping(pgbench_accounts) EXCEPT the new table and back, in plain
# SQL; by default the new table is accounts_v2 with balance_cents
accounts_diff() { # [new-table [mapped-columns]]
  local t=${1:-accounts_v2} c=${2:-aid, bid, abalance, abalance * 100, filler}
  psql -Atq "$DB_URI" -c "SELECT
      (SELECT count(*) FROM (SELECT $c FROM pgbench_accounts EXCEPT SELECT * FROM $t) a)
    + (SELECT count(*) FROM (SELECT * FROM $t EXCEPT SELECT $c FROM pgbench_accounts) b)"
}

# waits for a pgbench run; it must have succeeded with no failed transaction
pgbench_ok() { # pid output-file
  wait "$1" || fail "pgbench: $(tail -3 "$2")"
  grep -q "number of failed transactions: 0 " "$2" || fail "pgbench failures: $(grep -i fail "$2")"
}

# stops a background `segue run`; it must not have stopped on its own
worker_ok() { # pid log-file
  kill "$1" 2>/dev/null; wait "$1" || fail "the worker stopped on its own: $(cat "$2")"
}

# drains what is pending, then: mapping and new table agree row for row
# (accounts_diff's arguments), and the table now taking writes holds every
# delta pgbench recorded in history
drained_and_whole() { # spec table-taking-writes when [new-table mapped-columns]
  check "drain ($3)" $SEGUE run "$1" --until caught-up >/dev/null
  local n; n=$(accounts_diff "${4:-}" "${5:-}")
  [ "$n" = 0 ] || fail "independent EXCEPT $3: $n rows differ"
  [ "$(psql -Atq "$DB_URI" -c "SELECT (SELECT sum(abalance) FROM $2) = (SELECT sum(delta) FROM pgbench_history)")" = t ] ||
    fail "$2 balances do not add up to pgbench's history $3: a write was lost"
}

# a started migration pgbench_accounts -> accounts_v2 (with balance_cents)
# in a fresh pgbench database whose application follows segue's routing;
# sets D (scratch dir holding m.yaml)
routed_setup() { # database
  pgbench_db "$1" $SCALE || { fail "pgbench database"; return 1; }
  D=$(scratch)
  accounts_spec "$D" pgcut "abalance: abalance" "balance_cents: abalance * 100"
  check "start" $SEGUE start "$D/m.yaml" >/dev/null
  psql -Xq "$DB_URI" -f tests/e2e/pg/routed_app.sql >/dev/null || fail "app function"
}

# a started migration of pgbench_accounts from a fresh pgbench database into
# the same table of another fresh database; with a role, that role (made
# when missing) may read and write pgbench's tables and nothing else before
# the start; sets D (scratch dir holding m.yaml) and DST (the target's URI)
other_db_setup() { # source-database target-database migration [role]
  fresh_db "$2" || { fail "fresh database"; return 1; }
  DST=$DB_URI
  pgbench_db "$1" $SCALE || { fail "pgbench database"; return 1; }
  [ -z "${4:-}" ] || psql -Xq -v ON_ERROR_STOP=1 "$DB_URI" -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT 1
      FROM pg_roles WHERE rolname = '$4') THEN CREATE ROLE $4 LOGIN; END IF; END \$\$;
    GRANT SELECT, INSERT, UPDATE, DELETE ON pgbench_accounts, pgbench_branches,
      pgbench_tellers, pgbench_history TO $4" >/dev/null || { fail "application role"; return 1; }
  D=$(scratch)
  accounts_spec "$D" "$3" "abalance: abalance"
  sed -i "s|^target: .*|target: $DST|; s|to: accounts_v2|to: pgbench_accounts|" "$D/m.yaml"
  check "start" $SEGUE start "$D/m.yaml" >/dev/null
}

# backfill, verify, all reads to the target: ready for the write cutover
ready_for_writes() { # spec
  check "backfill" $SEGUE backfill "$1" >/dev/null
  check "verify" $SEGUE verify "$1" >/dev/null
  check "reads 100" with_worker "$1" $SEGUE cutover "$1" --reads 100 >/dev/null
}

# a writer transaction that keeps pgbench_accounts' ROW EXCLUSIVE lock for
# 3 s (it touches no row), in the background; sets HOLDER to its pid
hold_table() {
  psql -q "$DB_URI" -c "BEGIN; UPDATE pgbench_accounts SET abalance = 0 WHERE aid = -1;
    SELECT pg_sleep(3); COMMIT;" >/dev/null &
  HOLDER=$!
}

# the slowest pgbench transaction logged in dir (pgbench -l) stayed under
# the limit (default: the 500 ms lock timeout plus slack)
no_stall() { # dir what [limit-ms]
  local max; max=$(cat "$1"/pgbench_log.* | awk '$3 > m {m = $3} END {print int(m / 1000)}')
  [ -n "$max" ] && [ "$max" -lt "${3:-900}" ] || fail "pgbench stalled $max ms behind $2 (limit ${3:-900})"
}

# a spec moving pgbench_accounts into accounts_v2 of the same database;
# extra lines go under the mapping's columns
accounts_spec() { # dir name column-lines...
  local d=$1 name=$2; shift 2
  { printf 'version: 1\nname: %s\nsource: %s\ntarget: %s\nmappings:\n' "$name" "$DB_URI" "$DB_URI"
    printf '  - from: pgbench_accounts\n    to: accounts_v2\n    create: true\n    columns:\n'
    printf '      %s\n' aid: bid: "$@" filler:
    printf 'backfill:\n  chunk_time: 100ms\n'; } | sed 's/^      \(aid\|bid\|filler\):$/      \1: \1/' > "$d/m.yaml"
}

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
  # every spelling libpq reads: quoted with a space, spaces around '=',
  # %-encoded, a query parameter, sslpassword, and a string libpq cannot read
  local uri
  for uri in "postgresql:host=127.0.0.1 port=1 password='se cret'" \
             "postgresql:host=127.0.0.1 port=1 password = hunter3" \
             "postgresql://postgres:hunt%65r3@127.0.0.1:1/db" \
             "postgresql://postgres@127.0.0.1:1/db?password=hunter3&connect_timeout=5" \
             "postgres://127.0.0.1:1/db?sslpassword=hunter3" \
             "postgresql:host=127.0.0.1 port=1 sslpassword=hunter3 passfile=/nonexistent" \
             "postgresql:host=127.0.0.1 port=1 password hunter3"; do
    out=$("$TOOLS/driver_check" "$uri" 2>&1) && fail "connected to $uri"
    echo "$out" | grep -q "cannot connect to postgres" || fail "connect error for a spelling: $out"
    echo "$out" | grep -Eq "hunter|cret|hunt%65r3" && fail "a secret in a message: $out"
  done
}

# A migration whose URIs hold the password (quoted with a space in a
# key/value string on one side, %-encoded in a URI on the other) for a role
# the server checks by password: the secret is in no message, no --json
# output, no audit row and no control table.
test_pg_password_in_no_output() {
  pgbench_db pwsecret 1 || { fail "pgbench database"; return; }
  psql -q "$PG_URI" -c "DROP ROLE IF EXISTS pwuser" \
    -c "CREATE ROLE pwuser LOGIN SUPERUSER PASSWORD 's3 cr3t'" >/dev/null 2>&1 || fail "role"
  local hba="$PG_DIR/data/pg_hba.conf"
  grep -q pwuser "$hba" || { { echo "host all pwuser 127.0.0.1/32 scram-sha-256"; cat "$hba"; } > "$hba.new" &&
    cat "$hba.new" > "$hba" && psql -q "$PG_URI" -c "SELECT pg_reload_conf()" >/dev/null; }
  local d; d=$(scratch)
  cat > "$d/m.yaml" <<YAML
version: 1
name: pwsecret
source: "postgresql:host=127.0.0.1 port=$PG_PORT dbname=pwsecret user=pwuser password='s3 cr3t'"
target: "postgresql://pwuser:s3%20cr3t@127.0.0.1:$PG_PORT/pwsecret?connect_timeout=10"
mappings:
  - from: pgbench_branches
    to: branches_v2
    create: true
YAML
  sed "s/'s3 cr3t'/'wrong'/" "$d/m.yaml" > "$d/wrong.yaml"
  local out all=""
  out=$($SEGUE start "$d/wrong.yaml" 2>&1) && fail "the wrong password was taken"
  all+=$out
  for cmd in "plan --json" "start --json" "backfill --json" "verify --json" \
             "status --json" "status" "log --json" "log" "route 7 --json" \
             "cutover --reads 10 --force --reason x --json"; do
    local words; read -r -a words <<<"$cmd"
    out=$($SEGUE "${words[0]}" "$d/m.yaml" "${words[@]:1}" 2>&1) || fail "$cmd exited $?: $out"
    all+=$out
  done
  all+=$(pg_dump -a -n segue "postgresql://postgres@127.0.0.1:$PG_PORT/pwsecret" 2>&1)
  echo "$all" | grep -q "COPY segue.audit" || fail "the control tables were not read"
  echo "$all" | grep -Eq "cr3t|s3%20" && fail "the password shows: $(echo "$all" | grep -E "cr3t|s3%20")"
  psql -q "$PG_URI" -c "DROP DATABASE pwsecret" >/dev/null 2>&1
}

# plan reads a PostgreSQL source: row counts, keys, and target DDL typed
# from the catalog (plain columns) and from the server (expressions)
test_pg_plan_reads_the_catalog() {
  pgbench_db plan 1 || { fail "pgbench database"; return; }
  local d; d=$(scratch)
  accounts_spec "$d" pgplan "balance_cents: abalance * 100"
  local out; out=$($SEGUE plan "$d/m.yaml") || fail "plan exited $?: $out"
  echo "$out" | grep -q "pgbench_accounts -> accounts_v2: 100000 source rows" || fail "plan counts: $out"
  echo "$out" | grep -qF '"aid" integer NOT NULL, "bid" integer, "balance_cents" integer, "filler" character(84), PRIMARY KEY ("aid")' ||
    fail "plan DDL: $out"
  local before; before=$(psql -Atq "$DB_URI" -c "SELECT string_agg(schemaname || '.' || tablename, ',' ORDER BY 1) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")
  sed -i 's/      balance_cents: abalance \* 100/      balance_cents: no_such_column * 100/' "$d/m.yaml"
  out=$($SEGUE plan "$d/m.yaml" 2>&1); local rc=$?
  [ $rc = 2 ] || fail "bad expression: exit $rc"
  echo "$out" | grep -q "m.yaml:12: the source rejects the expression of column 'balance_cents'.*SQLSTATE 42703" ||
    fail "bad expression message: $out"
  [ "$(psql -Atq "$DB_URI" -c "SELECT string_agg(schemaname || '.' || tablename, ',' ORDER BY 1) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")" = "$before" ] ||
    fail "plan changed the database"
}

# pgbench writes to pgbench_accounts during the whole backfill and drain of
# a same-database migration with a transformed column; afterwards segue's
# verify and a plain-SQL EXCEPT both ways find nothing
test_pg_same_database_under_pgbench() {
  pgbench_db same $SCALE || { fail "pgbench database"; return; }
  local d; d=$(scratch)
  accounts_spec "$d" pgsame "abalance: abalance" "balance_cents: abalance * 100"
  check "start" $SEGUE start "$d/m.yaml" >/dev/null
  "$PG_BIN/pgbench" -c 4 -j 2 -T 6 "$DB_URI" > "$d/pgbench.out" 2>&1 &
  local p=$!
  sleep 0.5
  check "backfill" $SEGUE backfill "$d/m.yaml" >/dev/null
  $SEGUE run "$d/m.yaml" >/dev/null 2>&1 &
  local w=$!
  pgbench_ok $p "$d/pgbench.out"
  # stopped only once it runs (a kill before its signal handlers is no test)
  wait_for "the worker takes the lease" 60 worker_holds "$d/m.yaml"
  worker_ok $w /dev/null
  grep -q "number of transactions actually processed: [1-9]" "$d/pgbench.out" || fail "pgbench did nothing"
  check "run --until caught-up" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  check "verify" $SEGUE verify "$d/m.yaml" >/dev/null
  local n; n=$(accounts_diff)
  [ "$n" = 0 ] || fail "independent EXCEPT: $n rows differ"
  [ "$(psql -Atq "$DB_URI" -c "SELECT count(*) FROM accounts_v2")" = $((SCALE * 100000)) ] || fail "row count"
}

# the same under pgbench, into another database: rows streamed across, the
# changelog in the source's segue schema; compared by dumping both tables
test_pg_other_database_under_pgbench() {
  other_db_setup src dst pgother || return
  local d=$D dst=$DST
  "$PG_BIN/pgbench" -c 4 -j 2 -T 5 "$DB_URI" > "$d/pgbench.out" 2>&1 &
  local p=$!
  sleep 0.5
  check "backfill" $SEGUE backfill "$d/m.yaml" >/dev/null
  pgbench_ok $p "$d/pgbench.out"
  check "run --until caught-up" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  check "verify" $SEGUE verify "$d/m.yaml" >/dev/null
  local q="COPY (SELECT * FROM pgbench_accounts ORDER BY aid) TO STDOUT"
  psql -Xq "$DB_URI" -c "$q" > "$d/src.tsv"; psql -Xq "$dst" -c "$q" > "$d/dst.tsv"
  [ "$(wc -l < "$d/src.tsv")" = $((SCALE * 100000)) ] || fail "source rows: $(wc -l < "$d/src.tsv")"
  cmp -s "$d/src.tsv" "$d/dst.tsv" || fail "source and target differ: $(diff "$d/src.tsv" "$d/dst.tsv" | head -3)"
  [ "$(psql -Atq "$DB_URI" -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'segue'")" = 1 ] ||
    fail "no segue schema on the source"
  check "abort" $SEGUE abort "$d/m.yaml" >/dev/null
  [ "$(psql -Atq "$DB_URI" -c "SELECT count(*) FROM pg_namespace WHERE nspname = 'segue'")" = 0 ] ||
    fail "abort left the segue schema on the source"
  [ "$(psql -Atq "$DB_URI" -c "SELECT count(*) FROM pg_trigger WHERE tgname LIKE '\_segue%'")" = 0 ] ||
    fail "abort left triggers"
}

# the whole playbook under a pgbench TPC-B whose account updates follow
# segue's routing (tests/e2e/pg): verify, reads, the write cutover with its
# fence, reverse capture, then cleanup; no pgbench transaction fails
test_pg_cutover_and_cleanup_under_routed_pgbench() {
  routed_setup cut || return
  local d=$D
  local bench=("$PG_BIN/pgbench" -n -c 4 -j 2 -s $SCALE -f tests/e2e/pg/routed_tpcb.pgbench "$DB_URI")
  "${bench[@]}" -T 10 > "$d/pgbench1.out" 2>&1 &
  local p=$!
  $SEGUE run "$d/m.yaml" > "$d/worker.log" 2>&1 &
  local w=$!
  local i; for i in $(seq 100); do
    $SEGUE status "$d/m.yaml" --json | grep -q '"backfill_complete":true' && break; sleep 0.1
  done
  check "verify under load" $SEGUE verify "$d/m.yaml" >/dev/null
  check "reads 100" $SEGUE cutover "$d/m.yaml" --reads 100 >/dev/null
  check "writes" $SEGUE cutover "$d/m.yaml" --writes >/dev/null
  pgbench_ok $p "$d/pgbench1.out"
  worker_ok $w "$d/worker.log"
  drained_and_whole "$d/m.yaml" accounts_v2 "after the cutover"
  psql -Xq "$DB_URI" -c "UPDATE pgbench_accounts SET abalance = 1 WHERE aid = 1" 2>&1 | grep -q "migration 'pgcut'" ||
    fail "the old table takes writes after the cutover"
  "${bench[@]}" -T 4 > "$d/pgbench2.out" 2>&1 &
  p=$!
  sleep 1
  check "cleanup under load" $SEGUE cleanup "$d/m.yaml" >/dev/null
  pgbench_ok $p "$d/pgbench2.out"
  local left; left=$(psql -Atq "$DB_URI" -c "SELECT string_agg(tgrelid::regclass || '.' || tgname, ' ')
    FROM pg_trigger WHERE tgname LIKE '\_segue%'")
  [ -z "$left" ] || fail "cleanup left triggers: $left"
}

# rollback after the write cutover while pgbench writes to the target: every
# target write reaches the source, and pgbench sees no failure
test_pg_rollback_under_routed_pgbench() {
  routed_setup back || return
  local d=$D
  ready_for_writes "$d/m.yaml"
  check "writes" with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --writes >/dev/null
  "$PG_BIN/pgbench" -n -c 4 -j 2 -s $SCALE -f tests/e2e/pg/routed_tpcb.pgbench -T 6 "$DB_URI" > "$d/pgbench.out" 2>&1 &
  local p=$!
  $SEGUE run "$d/m.yaml" > "$d/worker.log" 2>&1 &
  local w=$!
  sleep 3
  local before; before=$(psql -Atq "$DB_URI" -c "SELECT sum(abalance) FROM accounts_v2")
  [ "$before" != 0 ] || fail "pgbench wrote nothing to the target"
  check "rollback under load" $SEGUE rollback "$d/m.yaml" >/dev/null
  pgbench_ok $p "$d/pgbench.out"
  worker_ok $w "$d/worker.log"
  drained_and_whole "$d/m.yaml" pgbench_accounts "after the rollback"
  check "verify after rollback" $SEGUE verify "$d/m.yaml" >/dev/null
}

# pgbench back to back in runs of 2 s (pgbench has no clean stop) until
# pgbench_loop_stop; sets LOOP
pgbench_loop() { # dir pgbench-command...
  local dir=$1; shift
  rm -f "$dir/stop"
  ( i=0; while [ ! -e "$dir/stop" ]; do
      i=$((i + 1)); "$@" -T 2 > "$dir/pgbench.$i.out" 2>&1 || exit 1
    done ) &
  LOOP=$!
}

# stops the loop; every run must have succeeded with no failed transaction
pgbench_loop_stop() { # dir
  touch "$1/stop"
  wait "$LOOP" || fail "a pgbench run failed: $(tail -3 "$(ls -t "$1"/pgbench.*.out | head -1)")"
  local f; for f in "$1"/pgbench.*.out; do
    grep -q "number of failed transactions: 0 " "$f" || fail "pgbench failures: $(grep -i fail "$f")"
  done
  rm -f "$1"/pgbench.*.out
}

# the sum of a balance column moves within a second: writes arrive there
takes_writes() { # relation what
  local a b
  a=$(psql -Atq "$DB_URI" -c "SELECT sum(abalance) FROM $1"); sleep 1
  b=$(psql -Atq "$DB_URI" -c "SELECT sum(abalance) FROM $1")
  [ "$a" != "$b" ] || fail "$1 takes no writes $2"
}

# the playbook into ANOTHER database under pgbench: the application in the
# source database reaches the target's table and segue's routing through
# postgres_fdw (tests/e2e/pg/routed_fdw_app.sql) and has a transaction the
# guard rejects retried (--max-tries). pgbench runs as an application role
# with privileges on pgbench's tables only (benchapp), never segue's or the
# server owner's: capture, the guards and the target's grants must serve it
# and the routing row must be readable to it. pgbench writes without a break
# through the backfill, verify, the write cutover, a rollback (every target
# write in the source), a second cutover and cleanup. The independent EXCEPT
# runs in the source against the target's table through the foreign table,
# after the rollback and the second cutover (after cleanup the old table no
# longer follows: there, every pgbench delta must be in the target)
test_pg_cutover_rollback_cleanup_into_another_database_under_routed_pgbench() {
  other_db_setup fdwsrc fdwdst pgcut benchapp || return
  local d=$D dst=$DST app=${DB_URI/postgres@/benchapp@}
  psql -Xq -v ON_ERROR_STOP=1 -v port="$PG_PORT" -v db=fdwdst -v app=benchapp "$DB_URI" \
    -f tests/e2e/pg/routed_fdw_app.sql >/dev/null || { fail "app functions"; return; }
  local bench=("$PG_BIN/pgbench" -n -c 4 -j 2 -s $SCALE --max-tries 50
               -f tests/e2e/pg/routed_tpcb.pgbench "$app")
  local new=remote.pgbench_accounts all="aid, bid, abalance, filler"
  pgbench_loop "$d" "${bench[@]}"
  $SEGUE run "$d/m.yaml" > "$d/worker.log" 2>&1 &
  local w=$!
  local i; for i in $(seq 600); do
    $SEGUE status "$d/m.yaml" --json | grep -q '"backfill_complete":true' && break; sleep 0.1
  done
  [ "$i" -lt 600 ] || fail "backfill did not complete in 60 s"
  takes_writes pgbench_accounts "during the backfill"
  check "verify under load" $SEGUE verify "$d/m.yaml" >/dev/null
  check "reads 100" $SEGUE cutover "$d/m.yaml" --reads 100 >/dev/null
  check "writes" $SEGUE cutover "$d/m.yaml" --writes >/dev/null
  takes_writes $new "after the cutover"
  psql -Xq "$DB_URI" -c "UPDATE pgbench_accounts SET abalance = 1 WHERE aid = 1" 2>&1 | grep -q "migration 'pgcut'" ||
    fail "the old table takes writes after the cutover"
  [ "$(psql -Atq "${dst/postgres@/benchapp@}" -c "SELECT count(*) > 0 FROM pgbench_accounts")" = t ] ||
    fail "the application role cannot read the new table"
  check "rollback under load" $SEGUE rollback "$d/m.yaml" >/dev/null
  takes_writes pgbench_accounts "after the rollback"
  pgbench_loop_stop "$d"
  worker_ok $w "$d/worker.log"
  drained_and_whole "$d/m.yaml" pgbench_accounts "after the rollback" $new "$all"
  pgbench_loop "$d" "${bench[@]}"
  $SEGUE run "$d/m.yaml" > "$d/worker.log" 2>&1 &
  w=$!
  wait_for "the worker catches up" 120 worker_ready "$d/m.yaml"
  check "reads 100 again" $SEGUE cutover "$d/m.yaml" --reads 100 >/dev/null
  check "writes again" $SEGUE cutover "$d/m.yaml" --writes >/dev/null
  takes_writes $new "after the second cutover"
  pgbench_loop_stop "$d"
  worker_ok $w "$d/worker.log"
  drained_and_whole "$d/m.yaml" $new "after the second cutover" $new "$all"
  pgbench_loop "$d" "${bench[@]}"
  $SEGUE run "$d/m.yaml" > "$d/worker.log" 2>&1 &
  w=$!
  sleep 1
  check "cleanup under load" $SEGUE cleanup "$d/m.yaml" >/dev/null
  takes_writes $new "after cleanup"
  pgbench_loop_stop "$d"
  for i in $(seq 50); do kill -0 $w 2>/dev/null || break; sleep 0.1; done
  kill $w 2>/dev/null && fail "the worker did not finish after cleanup"
  wait $w || fail "the worker failed after cleanup: $(cat "$d/worker.log")"
  [ "$(psql -Atq "$DB_URI" -c "SELECT (SELECT sum(abalance) FROM $new) = (SELECT sum(delta) FROM pgbench_history)")" = t ] ||
    fail "the target's balances do not add up to pgbench's history after cleanup: a write was lost"
  local left; left=$(psql -Atq "$dst" -c "SELECT string_agg(tgname, ' ') FROM pg_trigger WHERE tgname LIKE '\_segue%'")
  [ -z "$left" ] || fail "cleanup left triggers in the target: $left"
}

# both tables, dumped in key order, are identical
same_rows() { # source-uri target-uri table what
  local q="COPY (SELECT * FROM $3 ORDER BY 1, 2) TO STDOUT" a b
  a=$(psql -Xq "$1" -c "$q" | md5sum); b=$(psql -Xq "$2" -c "$q" | md5sum)
  [ "$a" = "$b" ] || fail "$3 differs between the databases $4"
}

# statements of 1000 rows or more are logged as one statement entry holding
# their keys (composite here): bulk UPDATE, DELETE, INSERT and a key-moving
# UPDATE are applied in slices by the worker (killed with -9 in the middle
# of one), by the write cutover's fence (entries still pending when it
# starts), and back by the rollback; dumps of both databases are identical
# at each step
test_pg_statement_entries_of_large_statements() {
  fresh_db stdst || { fail "fresh database"; return; }
  local dst=$DB_URI
  fresh_db stsrc || { fail "fresh database"; return; }
  psql -Xq -v ON_ERROR_STOP=1 "$DB_URI" -c "CREATE TABLE big (a int, b text, v int, PRIMARY KEY (a, b))" \
    -c "INSERT INTO big SELECT i, 'k' || (i % 3), i FROM generate_series(1, 60000) i" || { fail "setup"; return; }
  local d; d=$(scratch)
  printf 'version: 1\nname: st\nsource: %s\ntarget: %s\nmappings:\n  - from: big\n    to: big\n    create: true\n' \
    "$DB_URI" "$dst" > "$d/m.yaml"
  check "start" $SEGUE start "$d/m.yaml" >/dev/null
  check "backfill" $SEGUE backfill "$d/m.yaml" >/dev/null
  psql -Xq -v ON_ERROR_STOP=1 "$DB_URI" -c "UPDATE big SET v = v + 1" \
    -c "DELETE FROM big WHERE a % 7 = 0" \
    -c "INSERT INTO big SELECT i, 'n', -i FROM generate_series(70001, 75000) i" \
    -c "UPDATE big SET a = a + 100000 WHERE a <= 3000" \
    -c "UPDATE big SET v = 0 WHERE a = 5" || fail "bulk statements"
  local entries; entries=$(psql -XAtq "$DB_URI" -c "SELECT count(*) FROM segue.log_st_0_stmt")
  [ "$entries" = 4 ] || fail "expected 4 statement entries, found $entries"
  local pending; pending=$($SEGUE status "$d/m.yaml" --json | jfield pending_changes)
  [ "${pending:-0}" -gt 60000 ] || fail "status counts $pending pending changes, not every key"
  $SEGUE run "$d/m.yaml" >/dev/null 2>&1 &
  local w=$!
  sleep 0.3; kill -9 $w; wait $w 2>/dev/null
  check "run after kill -9" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  [ "$(psql -XAtq "$DB_URI" -c "SELECT count(*) FROM segue.log_st_0_stmt")" = 0 ] ||
    fail "statement entries left after the drain"
  check "verify" $SEGUE verify "$d/m.yaml" >/dev/null
  same_rows "$DB_URI" "$dst" big "after the drain"
  check "reads 100" with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --reads 100 >/dev/null
  psql -Xq "$DB_URI" -c "UPDATE big SET v = v * 2 WHERE a > 40000" || fail "bulk update before the cutover"
  # entries still pending reach the fence: the gates are passed by hand
  check "writes" $SEGUE cutover "$d/m.yaml" --writes --force --reason "fence drain test" >/dev/null
  same_rows "$DB_URI" "$dst" big "after the cutover"
  psql -Xq "$dst" -c "UPDATE big SET v = v - 3 WHERE a > 20000" -c "DELETE FROM big WHERE a % 11 = 0" ||
    fail "bulk statements in the target"
  check "rollback" $SEGUE rollback "$d/m.yaml" >/dev/null
  same_rows "$DB_URI" "$dst" big "after the rollback"
  check "verify after rollback" $SEGUE verify "$d/m.yaml" >/dev/null
}

# keys that move, zero and negative keys, gaps of 10^10, a composite text
# key with a trailing space, a unique value swapped between two rows in one
# transaction, the highest key deleted: all reach the target
test_pg_key_changes_and_odd_keys() {
  fresh_db keys || { fail "fresh database"; return; }
  psql -Xq -v ON_ERROR_STOP=1 "$DB_URI" -c "CREATE TABLE k (a bigint, b text, v int, payload bytea,
      PRIMARY KEY (a, b), UNIQUE (v) DEFERRABLE INITIALLY DEFERRED);
    INSERT INTO k VALUES (0, 'x', -1, '\\x00ff'), (-5, 'y', -2, NULL), (10000000000, 'z', -3, ''),
      (20000000000, 'trailing ', -4, '\\x01');
    INSERT INTO k SELECT i, 'r', i, decode(md5(i::text), 'hex') FROM generate_series(1, 3000) i" ||
    { fail "seed"; return; }
  local d; d=$(scratch)
  printf 'version: 1\nname: keys\nsource: %s\ntarget: %s\nmappings:\n  - from: k\n    to: k2\n    create: true\nbackfill:\n  chunk_time: 20ms\n' \
    "$DB_URI" "$DB_URI" > "$d/m.yaml"
  check "start" $SEGUE start "$d/m.yaml" >/dev/null
  check "backfill" $SEGUE backfill "$d/m.yaml" >/dev/null
  psql -Xq -v ON_ERROR_STOP=1 "$DB_URI" -c "UPDATE k SET a = a + 100000 WHERE b = 'r' AND a BETWEEN 1 AND 500" \
    -c "UPDATE k SET a = -a WHERE b = 'r' AND a BETWEEN 2000 AND 2100" \
    -c "UPDATE k SET b = b || ' ' WHERE a = 0" \
    -c "BEGIN; UPDATE k SET v = 999999 WHERE a = 3000; UPDATE k SET v = 3000 WHERE a = 2999;
        UPDATE k SET v = 2999 WHERE v = 999999; COMMIT;" \
    -c "DELETE FROM k WHERE a = (SELECT max(a) FROM k)" \
    -c "UPDATE k SET a = a + 10000000000 WHERE a = -5" || fail "key changes"
  check "run" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  check "verify" $SEGUE verify "$d/m.yaml" >/dev/null
  local n; n=$(psql -Atq "$DB_URI" -c "SELECT (SELECT count(*) FROM (SELECT * FROM k EXCEPT SELECT * FROM k2) x)
    + (SELECT count(*) FROM (SELECT * FROM k2 EXCEPT SELECT * FROM k) y)")
  [ "$n" = 0 ] || fail "independent EXCEPT: $n rows differ"
  [ "$(psql -Atq "$DB_URI" -c "SELECT count(*) FROM k2 WHERE a = 20000000000")" = 0 ] || fail "deleted highest key still in the target"
}

# kill -9 of backfill and of the worker at random moments under pgbench,
# then of a write cutover between its two commits; each restart converges
test_pg_kill_and_resume() {
  fresh_db kdst || { fail "fresh database"; return; }
  local dst=$DB_URI
  pgbench_db ksrc 5 || { fail "pgbench database"; return; }
  local d; d=$(scratch)
  printf 'version: 1\nname: pgkill\nsource: %s\ntarget: %s\nmappings:\n  - from: pgbench_accounts\n    to: pgbench_accounts\n    create: true\nbackfill:\n  chunk_time: 50ms\n' \
    "$DB_URI" "$dst" > "$d/m.yaml"
  check "start" $SEGUE start "$d/m.yaml" >/dev/null
  "$PG_BIN/pgbench" -n -c 2 -j 2 -T 8 "$DB_URI" > "$d/pgbench.out" 2>&1 &
  local p=$! moments="" cmd delay pid
  for cmd in backfill backfill backfill run run; do
    delay=0.$((RANDOM % 8 + 1)); moments="$moments $cmd@${delay}s"
    $SEGUE $cmd "$d/m.yaml" >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
  done
  pgbench_ok $p "$d/pgbench.out"
  check "resume after kills at$moments" $SEGUE run "$d/m.yaml" --until caught-up --wait >/dev/null
  check "verify" $SEGUE verify "$d/m.yaml" >/dev/null
  check "reads 100" with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --reads 100 >/dev/null
  # no worker may finish the switch before the late write: gates passed by hand
  "$TOOLS/crashpoint" --force "$d/m.yaml" cutover:between-commits cutover 2>/dev/null
  [ $? = 137 ] || fail "crashpoint did not stop the cutover between its commits"
  psql -Xq "$DB_URI" -c "UPDATE pgbench_accounts SET abalance = 4242 WHERE aid = 7" || fail "late source write"
  check "run finishes the cutover" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  [ "$(psql -Atq "$dst" -c "SELECT abalance FROM pgbench_accounts WHERE aid = 7")" = 4242 ] ||
    fail "the write that reached the source between the commits was lost"
  psql -Xq "$DB_URI" -c "UPDATE pgbench_accounts SET abalance = 1 WHERE aid = 8" 2>&1 | grep -q "migration 'pgkill'" ||
    fail "the source takes writes after the finished cutover"
  local q="COPY (SELECT * FROM pgbench_accounts ORDER BY aid) TO STDOUT"
  psql -Xq "$DB_URI" -c "$q" > "$d/src.tsv"; psql -Xq "$dst" -c "$q" > "$d/dst.tsv"
  cmp -s "$d/src.tsv" "$d/dst.tsv" || fail "source and target differ after kills at$moments"
}

# a long transaction holds a lock on the table while `segue start` needs its
# own: segue waits at most its lock timeout (500 ms) per try, steps out of
# the queue, backs off and retries, so pgbench never stalls behind it
test_pg_start_does_not_queue_behind_a_long_transaction() {
  pgbench_db locks 1 || { fail "pgbench database"; return; }
  local d; d=$(scratch)
  chmod 777 "$d"
  accounts_spec "$d" pglock "abalance: abalance"
  # a writer that stays open: its ROW EXCLUSIVE lock blocks CREATE TRIGGER
  hold_table
  (cd "$d" && "$PG_BIN/pgbench" -c 2 -j 2 -T 5 -l "$DB_URI" > pgbench.out 2>&1) &
  local p=$!
  sleep 0.5
  local t0; t0=$(date +%s%N)
  check "start behind a lock" $SEGUE start "$d/m.yaml" >/dev/null
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  wait $HOLDER; wait $p || fail "pgbench: $(tail -3 "$d/pgbench.out")"
  [ $ms -ge 2000 ] || fail "start took $ms ms: it did not wait for the lock"
  no_stall "$d" "segue start"
  grep -q "number of failed transactions: 0 " "$d/pgbench.out" || fail "pgbench failures"
  check "abort" $SEGUE abort "$d/m.yaml" >/dev/null
}

# the same during the write cutover: its fence (LOCK TABLE ... EXCLUSIVE)
# waits behind a long writer without holding pgbench up past the timeout
test_pg_cutover_does_not_queue_behind_a_long_transaction() {
  routed_setup cutlock || return
  local d=$D
  ready_for_writes "$d/m.yaml"
  $SEGUE run "$d/m.yaml" > "$d/worker.log" 2>&1 &
  local w=$!
  wait_for "the worker holds the lease" 60 worker_ready "$d/m.yaml"
  chmod 777 "$d"
  (cd "$d" && "$PG_BIN/pgbench" -n -c 2 -j 2 -s $SCALE -f "$OLDPWD/tests/e2e/pg/routed_tpcb.pgbench" -T 6 -l "$DB_URI" \
     > pgbench.out 2>&1) &
  local p=$!
  sleep 0.5
  hold_table
  sleep 0.3
  local t0 out; t0=$(date +%s%N)
  out=$($SEGUE cutover "$d/m.yaml" --writes --json) || fail "cutover --writes behind a lock"
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  wait $HOLDER
  pgbench_ok $p "$d/pgbench.out"
  worker_ok $w "$d/worker.log"
  [ $ms -ge 1500 ] || fail "cutover took $ms ms: it did not wait for the lock"
  # writers wait at most one lock try, plus the fence itself once it is held
  local fence; fence=$(echo "$out" | sed -n 's/.*"fence_ms":\([0-9]*\).*/\1/p')
  no_stall "$d" "the cutover" $((${fence:-0} + 900))
  drained_and_whole "$d/m.yaml" accounts_v2 "after a cutover behind a lock"
}

# changelog ids commit out of order: a transaction that took a lower id
# commits after later ones were applied; nothing is skipped
test_pg_changelog_ids_commit_out_of_order() {
  pgbench_db idorder 1 || { fail "pgbench database"; return; }
  local d; d=$(scratch)
  accounts_spec "$d" pgorder "abalance: abalance"
  check "start" $SEGUE start "$d/m.yaml" >/dev/null
  check "backfill" $SEGUE backfill "$d/m.yaml" >/dev/null
  $SEGUE run "$d/m.yaml" > "$d/worker.log" 2>&1 &
  local w=$!
  local i holders=()
  for i in 1 2 3 4 5; do   # five open transactions, each holding a logged change
    psql -q "$DB_URI" -c "BEGIN; UPDATE pgbench_accounts SET abalance = $i * 111 WHERE aid = $i;
      SELECT pg_sleep(1.$i); COMMIT;" >/dev/null &
    holders+=($!)
  done
  sleep 0.3
  for i in $(seq 6 60); do  # later ids, committed and applied first
    psql -Xq "$DB_URI" -c "UPDATE pgbench_accounts SET abalance = $i WHERE aid = $i"
  done
  wait "${holders[@]}"
  sleep 1
  worker_ok $w "$d/worker.log"
  check "run" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  [ "$(psql -Atq "$DB_URI" -c "SELECT string_agg(abalance::text, ',' ORDER BY aid) FROM accounts_v2 WHERE aid <= 5")" = "111,222,333,444,555" ] ||
    fail "late-committing changes were skipped"
  [ "$(accounts_diff accounts_v2 "aid, bid, abalance, filler")" = 0 ] || fail "independent EXCEPT"
}

# Pagila: a partitioned table (payment, keyed by timestamptz + id), a domain
# with a non-ASCII name, an enum, text[] and tsvector columns; writes while
# the backfill runs, including updates that move rows across partitions
test_pg_pagila_same_database() {
  fresh_db pagila || { fail "fresh database"; return; }
  local data=${SEGUE_PAGILA:-$(shared_data pagila)}
  load_dataset "$data" pagila-schema.sql pagila-data.sql ||
    { fail "cannot load Pagila from $data (set SEGUE_PAGILA)"; return; }
  local d t; d=$(scratch)
  { printf 'version: 1\nname: pagila\nsource: %s\ntarget: %s\nmappings:\n' "$DB_URI" "$DB_URI"
    for t in film payment rental customer; do printf '  - from: %s\n    to: %s_v2\n    create: true\n' $t $t; done
    printf 'backfill:\n  chunk_time: 20ms\n'; } > "$d/m.yaml"
  migrate_while_writing "$d/m.yaml" \
    "UPDATE film SET rating = 'NC-17', special_features = array_append(special_features, 'x') WHERE film_id < 50" \
    "UPDATE payment SET amount = amount + 1 WHERE payment_id % 7 = 0" \
    "DELETE FROM payment WHERE payment_id % 13 = 0" \
    "UPDATE payment SET payment_date = payment_date + interval '1 month'
       WHERE payment_id % 11 = 0 AND payment_date < '2022-06-01'" \
    "INSERT INTO rental (rental_date, inventory_id, customer_id, staff_id) VALUES (now(), 1, 1, 1)" \
    "UPDATE customer SET email = upper(email), activebool = NOT activebool WHERE customer_id % 5 = 0"
  for t in film payment rental customer; do
    local n; n=$(psql -XAtq "$DB_URI" -c "SELECT (SELECT count(*) FROM (SELECT * FROM $t EXCEPT SELECT * FROM ${t}_v2) a)
      + (SELECT count(*) FROM (SELECT * FROM ${t}_v2 EXCEPT SELECT * FROM $t) b)")
    [ "$n" = 0 ] || fail "independent EXCEPT on $t: $n rows differ"
  done
  # what reads film (views, other tables' foreign keys) is named by plan,
  # and cleanup --drop-source refuses while it is there
  local deps; deps=$($SEGUE plan "$d/m.yaml" | grep "depends on film:")
  case "$deps" in *"foreign key film_actor_film_id_fkey on film_actor"*"view film_list"*"view nicer_but_slower_film_list"*) ;;
    *) fail "plan's dependents of film: $deps" ;; esac
  check "reads 100" with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --reads 100 >/dev/null
  check "writes" with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --writes >/dev/null 2>&1
  local out; out=$($SEGUE cleanup "$d/m.yaml" --drop-source 2>&1); local rc=$?
  [ $rc = 4 ] || fail "cleanup --drop-source exit $rc: $out"
  echo "$out" | grep -q "dropping '.*' would break what depends on it: .*view .*nothing was changed" ||
    fail "cleanup --drop-source message: $out"
  [ "$(psql -XAtq "$DB_URI" -c "SELECT count(*) FROM pg_class WHERE relname IN ('film', 'payment', 'rental', 'customer')")" = 4 ] ||
    fail "a source table was dropped"
  check "cleanup keeping the sources" $SEGUE cleanup "$d/m.yaml" >/dev/null
}

# Sakila into another database with mappings: all: the enum and the domain
# its columns use are created there; bytea, text[], tsvector and enum
# changes made during the migration arrive; every table dumped in key order
# is identical
test_pg_sakila_other_database() {
  fresh_db sakdst || { fail "fresh database"; return; }
  local dst=$DB_URI t
  fresh_db sak || { fail "fresh database"; return; }
  local data=${SEGUE_SAKILA:-$(shared_data sakila/postgres)}
  load_dataset "$data" postgres-sakila-schema.sql postgres-sakila-insert-data-using-copy.sql ||
    { fail "cannot load Sakila from $data (set SEGUE_SAKILA)"; return; }
  local d; d=$(scratch)
  printf 'version: 1\nname: sakila\nsource: %s\ntarget: %s\nmappings: all\nbackfill:\n  chunk_time: 20ms\n' \
    "$DB_URI" "$dst" > "$d/m.yaml"
  # payment's children by inheritance (payment_p2007_*, no primary key)
  # are read with their parent, not moved apart
  local tables; tables=$(psql -XAtq "$DB_URI" -c "SELECT relname FROM pg_class c WHERE relkind IN ('r', 'p')
    AND relnamespace = 'public'::regnamespace AND NOT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = c.oid) ORDER BY 1")
  check "plan" $SEGUE plan "$d/m.yaml" > "$d/plan.out"
  [ "$(grep -c '^mapping ' "$d/plan.out")" = "$(echo "$tables" | wc -l)" ] && ! grep -q "payment_p2007" "$d/plan.out" ||
    fail "plan: $(grep -E '^(mapping|blocker)' "$d/plan.out")"
  migrate_while_writing "$d/m.yaml" \
    "UPDATE film SET rating = 'R', special_features = '{Trailers}', release_year = 2006 WHERE film_id < 30" \
    "UPDATE staff SET picture = decode('00ff00', 'hex') WHERE staff_id = 1" \
    "DELETE FROM payment WHERE payment_id % 17 = 0" \
    "UPDATE rental SET return_date = NULL WHERE rental_id % 9 = 0"
  for t in $tables; do
    local q="COPY (SELECT * FROM $t ORDER BY 1, 2) TO STDOUT"
    psql -Xq "$DB_URI" -c "$q" > "$d/a"; psql -Xq "$dst" -c "$q" > "$d/b"
    cmp -s "$d/a" "$d/b" || fail "$t differs between the databases"
  done
  [ "$(psql -XAtq "$dst" -c "SELECT count(*) FROM pg_type WHERE typname IN ('mpaa_rating', 'year')")" = 2 ] ||
    fail "the enum and the domain were not created in the target"
}

# verify with PostgreSQL at both ends: each engine sums its side of a chunk
# (a count and a sum of a 64-bit hash of each row's text), so no row is read
# unless the sums differ (ranges of 50 x --chunk-rows: 4 for 40,000 rows,
# a range that differs compared again in chunks of --chunk-rows); an
# integer widened to bigint still sums alike.
# Every kind of difference is still found: NULL against '', a comma moved
# from one text value to the next, a number and a timestamp off by their
# least digit, a row missing and a row extra
test_pg_verify_sums_in_engine_and_finds_each_difference() {
  fresh_db sumdst || { fail "fresh database"; return; }
  local dst=$DB_URI
  psql -Xq -v ON_ERROR_STOP=1 "$dst" -c "CREATE TABLE t (id int PRIMARY KEY, n bigint, a text,
    b varchar(40), x numeric(12,3), at timestamptz, raw bytea, doc jsonb)" || { fail "target table"; return; }
  fresh_db sumsrc || { fail "fresh database"; return; }
  psql -Xq -v ON_ERROR_STOP=1 "$DB_URI" -c "CREATE TABLE t (id int PRIMARY KEY, n int4, a text,
      b varchar(40), x numeric(12,3), at timestamptz, raw bytea, doc jsonb);
    INSERT INTO t SELECT i, i * 7, CASE WHEN i % 5 = 0 THEN '' ELSE 'a' || i END, 'b,' || i,
      i / 8.0, timestamptz '2026-01-01' + i * interval '1 minute',
      decode(lpad(to_hex(i), 8, '0'), 'hex'), jsonb_build_object('i', i)
    FROM generate_series(1, 40000) i" || { fail "source table"; return; }
  local d; d=$(scratch)
  printf 'version: 1\nname: sums\nsource: %s\ntarget: %s\nmappings:\n  - from: t\n    to: t\n' \
    "$DB_URI" "$dst" > "$d/m.yaml"
  check "start" $SEGUE start "$d/m.yaml" >/dev/null
  check "backfill" $SEGUE backfill "$d/m.yaml" >/dev/null
  $SEGUE verify "$d/m.yaml" --json --chunk-rows 200 > "$d/clean.json" || fail "verify: $(cat "$d/clean.json")"
  jq -e '.clean and .chunks == 4 and .chunks_in_engine == 4 and .chunks_differing == 0' \
    "$d/clean.json" >/dev/null || fail "a clean verify did not sum every chunk in-engine: $(cat "$d/clean.json")"
  pg_as_segue "$dst" "UPDATE t SET a = NULL WHERE id = 10;
    UPDATE t SET a = 'a12,b', b = '12' WHERE id = 12;
    UPDATE t SET x = x + 0.001 WHERE id = 12500;
    UPDATE t SET at = at + interval '1 microsecond' WHERE id = 13000;
    DELETE FROM t WHERE id = 34000;
    INSERT INTO t SELECT 45000, n, a, b, x, at, raw, doc FROM t WHERE id = 1" || { fail "corrupt the target"; return; }
  local rc=0
  $SEGUE verify "$d/m.yaml" --json --chunk-rows 200 > "$d/diff.json" || rc=$?
  [ $rc = 3 ] || fail "verify of a corrupted target: exit $rc: $(head -c 600 "$d/diff.json")"
  local keys; keys=$(jq -r '[.differences[] | .key + ":" + .kind] | join(" ")' "$d/diff.json")
  [ "$keys" = "(10):different (12):different (12500):different (13000):different (34000):missing (45000):extra" ] ||
    fail "differences: $keys"
  jq -e '.difference_count == 6 and .chunks == 4 and .chunks_in_engine == 1' "$d/diff.json" >/dev/null ||
    fail "the three chunks that differ are read row by row, the fourth summed: $(jq -c 'del(.differences)' "$d/diff.json")"
  check "verify --repair" $SEGUE verify "$d/m.yaml" --repair >/dev/null
  $SEGUE verify "$d/m.yaml" --json > "$d/again.json" &&
    jq -e '.clean and .chunks_in_engine == .chunks' "$d/again.json" >/dev/null ||
    fail "after the repair: $(cat "$d/again.json")"
}

# the highest key is deleted while the chunk holding it is being copied
# (the chunk's read sleeps on that row, so the delete lands mid-chunk): the
# stale copy the chunk writes is removed by the delete's changelog entry
test_pg_highest_key_deleted_while_its_chunk_is_copied() {
  fresh_db hdst || { fail "fresh database"; return; }
  local dst=$DB_URI
  fresh_db hsrc || { fail "fresh database"; return; }
  psql -Xq -v ON_ERROR_STOP=1 "$DB_URI" -c "CREATE TABLE h (a bigint PRIMARY KEY, v int)" \
    -c "INSERT INTO h SELECT i, i FROM generate_series(1, 2000) i" \
    -c "INSERT INTO h VALUES (20000000000, 7)" \
    -c "CREATE FUNCTION slow_v(k bigint, x int) RETURNS int LANGUAGE sql AS
        \$\$ SELECT CASE WHEN k = 20000000000 THEN (SELECT x FROM pg_sleep(2)) ELSE x END \$\$" ||
    { fail "seed"; return; }
  local d; d=$(scratch)
  printf 'version: 1\nname: high\nsource: %s\ntarget: %s\nmappings:\n  - from: h\n    to: h\n    create: true\n    columns:\n      a: a\n      v: slow_v(a, v)\n' \
    "$DB_URI" "$dst" > "$d/m.yaml"
  check "start" $SEGUE start "$d/m.yaml" >/dev/null
  $SEGUE backfill "$d/m.yaml" > "$d/bf.out" 2>&1 &
  local b=$! i in_flight=0
  for i in $(seq 100); do
    [ "$(psql -XAtq "$DB_URI" -c "SELECT count(*) FROM pg_stat_activity
          WHERE query LIKE '%slow_v%' AND wait_event = 'PgSleep'")" = 1 ] && { in_flight=1; break; }
    sleep 0.05
  done
  [ $in_flight = 1 ] || fail "the chunk never reached the highest key"
  psql -Xq "$DB_URI" -c "DELETE FROM h WHERE a = 20000000000" || fail "delete"
  [ "$(psql -XAtq "$DB_URI" -c "SELECT count(*) FROM pg_stat_activity
        WHERE query LIKE '%slow_v%' AND wait_event = 'PgSleep'")" = 1 ] ||
    fail "the chunk finished before the delete committed"
  wait $b || fail "backfill: $(cat "$d/bf.out")"
  grep -q "2001 rows copied" "$d/bf.out" ||
    fail "the chunk did not copy the row it read before the delete: $(cat "$d/bf.out")"
  check "run" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  [ "$(psql -XAtq "$dst" -c "SELECT count(*) FROM h WHERE a = 20000000000")" = 0 ] ||
    fail "the deleted highest key is still in the target"
  [ "$(psql -XAtq "$dst" -c "SELECT count(*), sum(v) FROM h")" = "2000|2001000" ] ||
    fail "target rows: $(psql -XAtq "$dst" -c "SELECT count(*), sum(v) FROM h")"
  check "verify" $SEGUE verify "$d/m.yaml" >/dev/null
}

# Pagila into another database with mappings: all, written to during the
# backfill: every table (the partitioned payment as one plain table; a
# domain with a non-ASCII name, enums, arrays), each after the tables it
# references; then both sides hold the same rows table by table, and every
# index of a mapped source table is on the target
test_pg_pagila_other_database() {
  fresh_db pagdst || { fail "fresh database"; return; }
  local dst=$DB_URI t
  fresh_db pagsrc || { fail "fresh database"; return; }
  local data=${SEGUE_PAGILA:-$(shared_data pagila)}
  load_dataset "$data" pagila-schema.sql pagila-data.sql ||
    { fail "cannot load Pagila from $data (set SEGUE_PAGILA)"; return; }
  psql -Xq -v ON_ERROR_STOP=1 "$DB_URI" -c 'CREATE DOMAIN "año" AS integer CHECK (VALUE > 1900)' \
    -c 'ALTER TABLE film ADD COLUMN "año_de_estreno" "año"' \
    -c 'UPDATE film SET "año_de_estreno" = 2000 + film_id % 20' || { fail "domain"; return; }
  local d; d=$(scratch)
  example_spec another-database "$d/m.yaml" "$DB_URI" "$dst" 'backfill:\n  chunk_time: 20ms'
  local tables; tables=$(psql -XAtq "$DB_URI" -c "SELECT relname FROM pg_class WHERE relkind IN ('r', 'p')
    AND NOT relispartition AND relnamespace = 'public'::regnamespace ORDER BY 1")
  [ "$(echo "$tables" | wc -l)" = 15 ] || fail "Pagila has not 15 tables: $tables"
  check "plan" $SEGUE plan "$d/m.yaml" > "$d/plan.out"
  [ "$(grep -c '^mapping ' "$d/plan.out")" = 15 ] || fail "plan lists $(grep -c '^mapping ' "$d/plan.out") mappings, not 15"
  at() { grep '^mapping ' "$d/plan.out" | cut -d' ' -f2 | grep -nx "$1" | cut -d: -f1; }
  [ "$(at language)" -lt "$(at film)" ] && [ "$(at film)" -lt "$(at film_actor)" ] &&
    [ "$(at customer)" -lt "$(at rental)" ] && [ "$(at rental)" -lt "$(at payment)" ] ||
    fail "plan's order puts a table before one it references: $(grep '^mapping ' "$d/plan.out" | cut -d' ' -f2 | tr '\n' ' ')"
  migrate_while_writing "$d/m.yaml" \
    "UPDATE film SET rating = 'NC-17', special_features = array_append(special_features, 'x'),
       \"año_de_estreno\" = 1999 WHERE film_id < 50" \
    "UPDATE payment SET amount = amount + 1 WHERE payment_id % 7 = 0" \
    "DELETE FROM payment WHERE payment_id % 13 = 0" \
    "UPDATE payment SET payment_date = payment_date + interval '1 month'
       WHERE payment_id % 11 = 0 AND payment_date < '2022-06-01'" \
    "UPDATE customer SET email = upper(email), activebool = NOT activebool WHERE customer_id % 5 = 0" \
    "INSERT INTO actor (first_name, last_name) VALUES ('ÁNGELA', 'NUEVA')" \
    "DELETE FROM film_actor WHERE actor_id = 7" \
    "UPDATE address SET phone = '555' || address_id WHERE address_id % 3 = 0" \
    "INSERT INTO category (name) VALUES ('Noir')"
  for t in $tables; do
    local q="COPY (SELECT * FROM $t ORDER BY 1, 2) TO STDOUT"
    psql -Xq "$DB_URI" -c "$q" > "$d/a"; psql -Xq "$dst" -c "$q" > "$d/b"
    [ -s "$d/a" ] || fail "$t: nothing dumped"
    cmp -s "$d/a" "$d/b" || fail "$t differs between the databases"
  done
  [ "$(psql -XAtq "$dst" -c "SELECT count(*) FROM actor WHERE first_name = 'ÁNGELA'")" = 1 ] ||
    fail "the actor inserted during the backfill is not on the target"
  # (segue's own heartbeat table sits beside the source's tables until cleanup)
  local iq="SELECT i.indexrelid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
    WHERE c.relnamespace = 'public'::regnamespace AND NOT c.relispartition AND c.relkind IN ('r', 'p')
    AND c.relname NOT LIKE '\\_segue%' ORDER BY 1"
  [ "$(psql -XAtq "$DB_URI" -c "$iq" | wc -l)" -ge 30 ] || fail "Pagila has fewer indexes than it should"
  diff <(psql -XAtq "$DB_URI" -c "$iq") <(psql -XAtq "$dst" -c "$iq") > "$d/idx.diff" ||
    fail "indexes of the source missing on the target: $(grep '^[<>]' "$d/idx.diff" | head -5 | tr '\n' ' ')"
  [ "$(psql -XAtq "$dst" -c "SELECT count(*) FROM pg_type WHERE typname = 'año'")" = 1 ] ||
    fail "the domain was not created in the target"
  # serial columns get sequences of their own, whose value follows each
  # write switch: an insert that leaves out the key works on either side
  grep -q "sequence actor_actor_id_seq for actor_id" "$d/plan.out" || fail "plan names no sequence"
  # what plan --check finds unexpected: only the triggers segue cannot carry
  $SEGUE plan "$d/m.yaml" --check > "$d/check.out"; local rc=$?
  [ $rc = 3 ] && [ "$(grep -c '^  unexpected: ' "$d/check.out")" = "$(grep -c '^  unexpected: trigger ' "$d/check.out")" ] &&
    grep -q "^  unexpected: trigger film_fulltext_trigger" "$d/check.out" &&
    grep -q "^  changed as the mapping says: foreign key film_language_id_fkey (language_id) -> language" "$d/check.out" ||
    fail "plan --check after the backfill: exit $rc: $(grep -v '^ *same' "$d/check.out" | grep unexpected | head -5)"
  # foreign_keys: true: added at the write cutover (NOT VALID), dropped at
  # the rollback
  local fkq="SELECT count(*) FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
    WHERE k.contype = 'f' AND NOT c.relispartition AND c.relnamespace = 'public'::regnamespace"
  grep -q 'ALTER TABLE "film_actor" ADD CONSTRAINT "film_actor_actor_id_fkey" FOREIGN KEY ("actor_id") REFERENCES "actor" ("actor_id") NOT VALID;  -- at the write cutover' "$d/plan.out" ||
    fail "plan does not show the foreign keys added at the write cutover"
  [ "$(psql -XAtq "$dst" -c "$fkq")" = 0 ] || fail "the target has foreign keys before the write cutover"
  check "reads" with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --reads 100 >/dev/null
  check "writes" with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --writes >/dev/null
  [ "$(psql -XAtq "$DB_URI" -c "$fkq")" -ge 15 ] && [ "$(psql -XAtq "$dst" -c "$fkq")" = "$(psql -XAtq "$DB_URI" -c "$fkq")" ] ||
    fail "the target has $(psql -XAtq "$dst" -c "$fkq") foreign keys after the write cutover, the source $(psql -XAtq "$DB_URI" -c "$fkq")"
  psql -XAtq "$dst" -c "INSERT INTO film_actor (actor_id, film_id) VALUES (999999, 1)" 2>&1 | grep -q "violates foreign key" ||
    fail "the target took a row its foreign key forbids"
  local id; id=$(psql -XAtq -v ON_ERROR_STOP=1 "$dst" -c "INSERT INTO actor (first_name, last_name)
    VALUES ('EN', 'DESTINO') RETURNING actor_id") || fail "an insert on the target without a key"
  [ "${id:-0}" -gt "$(psql -XAtq "$DB_URI" -c "SELECT max(actor_id) FROM actor")" ] ||
    fail "the target's sequence gave $id, a key the source has"
  check "rollback" with_worker "$d/m.yaml" $SEGUE rollback "$d/m.yaml" >/dev/null
  [ "$(psql -XAtq "$dst" -c "$fkq")" = 0 ] || fail "the rollback left foreign keys on the target"
  psql -XAtq -v ON_ERROR_STOP=1 "$DB_URI" -c "INSERT INTO actor (first_name, last_name)
    VALUES ('DE', 'VUELTA')" >/dev/null || fail "an insert on the source after the rollback"
  [ "$(psql -XAtq "$DB_URI" -c "SELECT count(*) FROM actor WHERE last_name IN ('DESTINO', 'VUELTA')")" = 2 ] ||
    fail "the rows inserted on each side are not both in the source"
}

# A text key that the two sides order differently (an ICU collation in the
# source, bytes in the target; NOCASE in a SQLite source) would make the key
# ranges of chunks and verify disagree: start refuses and changes nothing.
# With the source's collation given to the target column, the move runs and
# both sides hold the same rows.
test_pg_text_key_orders_must_agree() {
  fresh_db ordsrc || { fail "fresh database"; return; }
  local src=$DB_URI
  psql -Xq -v ON_ERROR_STOP=1 "$src" -c "CREATE TABLE t (code text COLLATE \"en-x-icu\" PRIMARY KEY, v int);
    INSERT INTO t SELECT CASE WHEN i % 3 = 0 THEN upper(m) WHEN i % 3 = 1 THEN m ELSE '_' || m END, i
      FROM (SELECT i, left(md5(i::text), 6) AS m FROM generate_series(1, 3000) i) x ON CONFLICT DO NOTHING" ||
    { fail "seed"; return; }
  fresh_db orddst || { fail "fresh database"; return; }
  local dst=$DB_URI d; d=$(scratch)
  printf 'version: 1\nname: ord\nsource: %s\ntarget: %s\nmappings:\n  - from: t\n    to: t\n    create: true\nbackfill:\n  chunk_time: 10ms\n' \
    "$src" "$dst" > "$d/m.yaml"
  local out rc
  out=$($SEGUE start "$d/m.yaml" 2>&1); rc=$?
  [ $rc = 2 ] || fail "start with keys ordered differently: exit $rc: $out"
  echo "$out" | grep -q "m.yaml:[0-9]*: key column 'code' orders its values by icu:en in the source but by bytes in the target" ||
    fail "message: $out"
  [ "$(psql -Atq "$dst" -c "SELECT to_regclass('t') IS NULL AND to_regnamespace('segue') IS NULL")" = t ] ||
    fail "a refused start left objects in the target"
  [ "$(psql -Atq "$src" -c "SELECT to_regnamespace('segue') IS NULL")" = t ] ||
    fail "a refused start left objects in the source"

  sed -i 's/    create: true/    create: true\n    columns:\n      code: {expr: code, type: '"'"'text COLLATE "en-x-icu"'"'"'}\n      v: v/' "$d/m.yaml"
  check "start with the source's collation" $SEGUE start "$d/m.yaml" >/dev/null
  check "backfill" $SEGUE backfill "$d/m.yaml" >/dev/null
  psql -Xq -v ON_ERROR_STOP=1 "$src" -c "UPDATE t SET v = -v WHERE code < 'b'" \
    -c "DELETE FROM t WHERE code > 'E'" -c "INSERT INTO t VALUES ('Zz', 1), ('zZ', 2)" || fail "writes"
  check "run" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  check "verify" $SEGUE verify "$d/m.yaml" >/dev/null
  local q='SELECT code, v FROM t ORDER BY code COLLATE "C"'
  [ "$(psql -Atq "$src" -c "$q" | md5sum)" = "$(psql -Atq "$dst" -c "$q" | md5sum)" ] ||
    fail "source and target rows differ"
  [ "$(psql -Atq "$dst" -c "SELECT count(*) FROM t")" -gt 1000 ] || fail "target nearly empty"

  local db=$d/s.db
  sqlite3 "$db" "CREATE TABLE s (code TEXT COLLATE NOCASE NOT NULL PRIMARY KEY, v INT); INSERT INTO s VALUES ('a', 1), ('B', 2)"
  printf 'version: 1\nname: ords\nsource: sqlite:%s\ntarget: %s\nmappings:\n  - from: s\n    to: s\n    create: true\n' \
    "$db" "$dst" > "$d/s.yaml"
  out=$($SEGUE start "$d/s.yaml" 2>&1); rc=$?
  [ $rc = 2 ] || fail "start from a NOCASE key: exit $rc: $out"
  echo "$out" | grep -q "key column 'code' orders its values by sqlite:NOCASE in the source but by bytes" ||
    fail "NOCASE message: $out"
  [ "$(psql -Atq "$dst" -c "SELECT to_regclass('s') IS NULL")" = t ] || fail "a refused start created the target"
}

# create: true into another database carries the source's secondary
# indexes (a partial one and one on an expression too), built after the
# backfill with CREATE INDEX CONCURRENTLY while pgbench writes
test_pg_indexes_built_after_the_backfill_under_pgbench() {
  fresh_db pgixdst || { fail "fresh database"; return; }
  local dst=$DB_URI d; d=$(scratch)
  pgbench_db pgixsrc $SCALE || { fail "pgbench database"; return; }
  psql -Xq -v ON_ERROR_STOP=1 "$DB_URI" -c "CREATE INDEX acc_bid ON pgbench_accounts (bid);
    CREATE INDEX acc_overdrawn ON pgbench_accounts (aid) WHERE abalance < 0;
    CREATE INDEX acc_bucket ON pgbench_accounts ((abalance % 7), bid DESC)" >/dev/null ||
    { fail "source indexes"; return; }
  accounts_spec "$d" pgix "abalance: abalance"
  sed -i "s|^target: .*|target: $dst|; s|to: accounts_v2|to: accounts|" "$d/m.yaml"
  local plan; plan=$($SEGUE plan "$d/m.yaml") || fail "plan"
  echo "$plan" | grep -qF 'CREATE INDEX CONCURRENTLY "acc_overdrawn" ON "accounts" ("aid") WHERE "abalance" < 0;' ||
    fail "plan: $plan"
  check "start" $SEGUE start "$d/m.yaml" >/dev/null
  [ "$(psql -Atq "$dst" -c "SELECT count(*) FROM pg_indexes WHERE tablename = 'accounts'")" = 1 ] ||
    fail "indexes made before the backfill"
  pgbench_loop "$d" "$PG_BIN/pgbench" -n -c 4 -j 2 "$DB_URI"
  $SEGUE backfill "$d/m.yaml" > /dev/null 2> "$d/backfill.err" || fail "backfill: $(cat "$d/backfill.err")"
  pgbench_loop_stop "$d"
  grep -q "index acc_bucket on accounts built in [0-9.]* s" "$d/backfill.err" ||
    fail "no build time shown: $(cat "$d/backfill.err")"
  check "run --until caught-up" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  check "verify" $SEGUE verify "$d/m.yaml" >/dev/null
  local defs; defs=$(psql -Atq "$dst" -c "SELECT string_agg(regexp_replace(pg_get_indexdef(indexrelid),
      ' ON public.accounts USING btree', ''), '; ' ORDER BY 1) FROM pg_index
      WHERE indrelid = 'accounts'::regclass AND indisvalid AND NOT indisprimary")
  [ "$defs" = "CREATE INDEX acc_bid (bid); CREATE INDEX acc_bucket (((abalance % 7)), bid DESC); CREATE INDEX acc_overdrawn (aid) WHERE (abalance < 0)" ] ||
    fail "target indexes: $defs"
  # the schema report: clean now; a dropped index is unexpected
  local out; out=$($SEGUE plan "$d/m.yaml" --check) || fail "plan --check after the build: $out"
  psql -Xq "$dst" -c "DROP INDEX acc_overdrawn" >/dev/null
  out=$($SEGUE plan "$d/m.yaml" --check); local rc=$?
  [ $rc = 3 ] && echo "$out" | grep -q "unexpected: index acc_overdrawn: the target lacks it" ||
    fail "plan --check with an index dropped: exit $rc: $out"
  psql -Xq "$dst" -c "CREATE INDEX acc_overdrawn ON accounts (aid) WHERE abalance < 0" >/dev/null
  local q="SET enable_seqscan = off; EXPLAIN (COSTS OFF)"
  psql -Atq "$dst" -c "$q SELECT * FROM accounts WHERE bid = 1" | grep -qE "Index (Only )?Scan (using|on) acc_bid" ||
    fail "no index search on the target: $(psql -Atq "$dst" -c "$q SELECT * FROM accounts WHERE bid = 1")"
  q="COPY (SELECT * FROM pgbench_accounts ORDER BY aid) TO STDOUT"
  psql -Xq "$DB_URI" -c "$q" > "$d/src.tsv"; psql -Xq "$dst" -c "${q/pgbench_accounts/accounts}" > "$d/dst.tsv"
  cmp -s "$d/src.tsv" "$d/dst.tsv" || fail "source and target differ: $(diff "$d/src.tsv" "$d/dst.tsv" | head -3)"
}

# unique values that move between rows (a swap and a rotation, each in one
# transaction) reach a target that has the unique indexes: the row that
# still holds a value there is displaced and synced again, nothing is set
# aside, and both tables end equal
test_pg_unique_values_moving_between_rows() {
  fresh_db uqdst || { fail "fresh database"; return; }
  local dst=$DB_URI d; d=$(scratch)
  fresh_db uqsrc || { fail "fresh database"; return; }
  psql -Xq -v ON_ERROR_STOP=1 "$DB_URI" -c "CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL UNIQUE,
      nick text, CONSTRAINT users_nick_key UNIQUE (nick));
    CREATE UNIQUE INDEX users_nick_active ON users (nick) WHERE id > 10;
    INSERT INTO users SELECT g, 'u' || g || '@x', 'n' || g FROM generate_series(1, 20000) g" >/dev/null ||
    { fail "source table"; return; }
  printf 'version: 1\nname: uq\nsource: %s\ntarget: %s\nmappings:\n  - from: users\n    to: users\n    create: true\n' \
    "$DB_URI" "$dst" > "$d/m.yaml"
  $SEGUE plan "$d/m.yaml" | grep -qF 'CREATE UNIQUE INDEX CONCURRENTLY "users_email_key" ON "users" ("email")' ||
    fail "plan: $($SEGUE plan "$d/m.yaml")"
  check "start" $SEGUE start "$d/m.yaml" >/dev/null
  psql -Xq "$DB_URI" -c "UPDATE users SET nick = nick || '.' WHERE id % 3 = 0" >/dev/null &
  local w=$!
  check "backfill" $SEGUE backfill "$d/m.yaml" >/dev/null 2>&1
  wait $w || fail "the writer during the backfill"
  # moves the target sees only after its unique indexes exist
  psql -Xq -v ON_ERROR_STOP=1 "$DB_URI" -c "BEGIN; UPDATE users SET email = 'tmp' WHERE id = 1;
      UPDATE users SET email = 'u1@x' WHERE id = 2; UPDATE users SET email = 'u2@x' WHERE id = 1; COMMIT;
    BEGIN; UPDATE users SET nick = 'tmp' WHERE id = 20; UPDATE users SET nick = 'n20' WHERE id = 21;
      UPDATE users SET nick = 'n21' WHERE id = 22; UPDATE users SET nick = 'n22' WHERE id = 20; COMMIT;
    DELETE FROM users WHERE id = 30; UPDATE users SET email = 'u30@x' WHERE id = 31" >/dev/null ||
    { fail "the moves"; return; }
  check "run --until caught-up" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  [ "$($SEGUE status "$d/m.yaml" --json | jq .set_aside)" = 0 ] || fail "keys set aside: $($SEGUE status "$d/m.yaml")"
  check "verify" $SEGUE verify "$d/m.yaml" >/dev/null
  local q="COPY (SELECT * FROM users ORDER BY id) TO STDOUT"
  psql -Xq "$DB_URI" -c "$q" > "$d/src.tsv"; psql -Xq "$dst" -c "$q" > "$d/dst.tsv"
  cmp -s "$d/src.tsv" "$d/dst.tsv" || fail "source and target differ: $(diff "$d/src.tsv" "$d/dst.tsv" | head -4)"
  # a rotation alone (ids the writer left alone): each displaced row meets
  # a value still held in turn
  psql -Xq -v ON_ERROR_STOP=1 "$DB_URI" -c "BEGIN; UPDATE users SET nick = 'tmp' WHERE id = 43;
      UPDATE users SET nick = 'n43' WHERE id = 44; UPDATE users SET nick = 'n44' WHERE id = 46;
      UPDATE users SET nick = 'n46' WHERE id = 43; COMMIT" >/dev/null || fail "the rotation"
  check "run after the rotation" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  [ "$($SEGUE status "$d/m.yaml" --json | jq .set_aside)" = 0 ] || fail "keys set aside: $($SEGUE status "$d/m.yaml")"
  [ "$(psql -XAtq "$dst" -c "SELECT string_agg(nick, ',' ORDER BY id) FROM users WHERE id IN (43, 44, 46)")" = "n46,n43,n44" ] ||
    fail "the rotation on the target: $(psql -XAtq "$dst" -c "SELECT * FROM users WHERE id IN (43, 44, 46)")"
  [ "$(psql -XAtq "$dst" -c "SELECT count(*) FROM pg_index WHERE indrelid = 'users'::regclass AND indisunique AND indisvalid")" = 4 ] ||
    fail "target unique indexes: $(psql -XAtq "$dst" -c "SELECT indexrelid::regclass FROM pg_index WHERE indrelid = 'users'::regclass")"
}

# an autovacuum of the created table, started by the backfill's inserts,
# holds the lock CREATE INDEX CONCURRENTLY waits for: the build waits past
# deadlock_timeout, so the server cancels the autovacuum, and the index is
# built at once instead of after segue's lock budget runs out (the vacuum
# here is throttled to last minutes)
autovacuum_on() { # database table
  [ "$(psql -XAtq "$PG_URI" -c "SELECT count(*) FROM pg_stat_progress_vacuum p JOIN pg_stat_activity a
      USING (pid) WHERE a.backend_type = 'autovacuum worker' AND p.datname = '$1'")" = 1 ]
}
index_valid() { # uri index
  [ "$(psql -XAtq "$1" -c "SELECT count(*) FROM pg_index WHERE indexrelid = to_regclass('$2') AND indisvalid")" = 1 ]
}
test_pg_index_build_cancels_a_blocking_autovacuum() {
  fresh_db avdst || { fail "fresh database"; return; }
  local dst=$DB_URI d; d=$(scratch)
  fresh_db avsrc || { fail "fresh database"; return; }
  psql -Xq -v ON_ERROR_STOP=1 "$DB_URI" -c "CREATE TABLE big (id int PRIMARY KEY, v int);
    INSERT INTO big SELECT g, g % 97 FROM generate_series(1, 200000) g; CREATE INDEX big_v ON big (v)" >/dev/null ||
    { fail "source table"; return; }
  printf 'version: 1\nname: av\nsource: %s\ntarget: %s\nmappings:\n  - {from: big, to: big, create: true}\n' \
    "$DB_URI" "$dst" > "$d/m.yaml"
  check "start" $SEGUE start "$d/m.yaml" >/dev/null
  # the inserts start an autovacuum soon; 100 ms after each page: minutes
  psql -Xq -v ON_ERROR_STOP=1 "$dst" -c "ALTER TABLE big SET (autovacuum_vacuum_insert_threshold = 1000,
    autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_cost_delay = 100,
    autovacuum_vacuum_cost_limit = 1)" -c "ALTER SYSTEM SET autovacuum_naptime = 1" \
    -c "SELECT pg_reload_conf()" >/dev/null || fail "autovacuum settings"
  if stopped_at "$d/m.yaml" index:build run "$d/run.log"; then
    wait_for "an autovacuum of the target table" 120 autovacuum_on avdst &&
      { kill -CONT $STOPPED; wait_for "index big_v built" 120 index_valid "$dst" big_v; }
    kill -TERM $STOPPED; wait $STOPPED
    ! grep -q "gave up waiting for a lock" "$d/run.log" || fail "the build waited out the vacuum: $(cat "$d/run.log")"
  fi
  psql -Xq "$dst" -c "ALTER SYSTEM RESET autovacuum_naptime" -c "SELECT pg_reload_conf()" >/dev/null
  psql -Xq "$dst" -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'" >/dev/null
}

# identity columns (ALWAYS and BY DEFAULT) into another database: the
# target's are identities of the same kind, segue's own writes keep their
# values on both sides (OVERRIDING SYSTEM VALUE), and a key the
# application leaves out is numbered above every number the other side
# gave (a deleted top row's too), after the write cutover and after the
# rollback
test_pg_identity_columns_numbered_on_both_sides() {
  fresh_db idtgt || { fail "fresh database"; return; }
  local dst=$DB_URI d; d=$(scratch)
  fresh_db idsrc || { fail "fresh database"; return; }
  psql -Xq -v ON_ERROR_STOP=1 "$DB_URI" -c "CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text);
    CREATE TABLE items (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, n int);
    INSERT INTO orders (note) SELECT 'o' || g FROM generate_series(1, 1000) g;
    INSERT INTO items (n) SELECT g FROM generate_series(1, 1000) g; DELETE FROM orders WHERE id = 1000" >/dev/null ||
    { fail "source tables"; return; }
  printf 'version: 1\nname: ident\nsource: %s\ntarget: %s\nmappings:\n  - {from: orders, to: orders, create: true}\n  - {from: items, to: items, create: true}\n' \
    "$DB_URI" "$dst" > "$d/m.yaml"
  $SEGUE plan "$d/m.yaml" > "$d/plan.out" || fail "plan: $(cat "$d/plan.out")"
  grep -qF '"id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL' "$d/plan.out" &&
    grep -qF '"id" integer GENERATED BY DEFAULT AS IDENTITY NOT NULL' "$d/plan.out" ||
    fail "plan: identities not made on the target: $(grep 'CREATE TABLE' "$d/plan.out")"
  migrate_while_writing "$d/m.yaml" "INSERT INTO orders (note) SELECT 'w' || g FROM generate_series(1, 200) g" \
    "INSERT INTO items (n) SELECT g FROM generate_series(1, 200) g"
  local top; top=$(psql -XAtq "$DB_URI" -c "SELECT pg_sequence_last_value('orders_id_seq')")
  check "reads 100" with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --reads 100 >/dev/null
  check "writes" with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --writes >/dev/null
  local o i
  o=$(psql -XAtq -v ON_ERROR_STOP=1 "$dst" -c "INSERT INTO orders (note) VALUES ('target') RETURNING id" | head -1)
  i=$(psql -XAtq -v ON_ERROR_STOP=1 "$dst" -c "INSERT INTO items (n) VALUES (-1) RETURNING id" | head -1)
  [ "$o" = $((top + 1)) ] || fail "the target numbered an order '$o', not $((top + 1))"
  [ "$i" = 1201 ] || fail "the target numbered an item '$i', not 1201"
  check "reverse drain" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  [ "$(psql -XAtq "$DB_URI" -c "SELECT note FROM orders WHERE id = $o")" = target ] ||
    fail "the target's order $o did not reach the source (GENERATED ALWAYS there)"
  check "rollback" $SEGUE rollback "$d/m.yaml" >/dev/null
  local o2 i2
  o2=$(psql -XAtq -v ON_ERROR_STOP=1 "$DB_URI" -c "INSERT INTO orders (note) VALUES ('source') RETURNING id" | head -1)
  i2=$(psql -XAtq -v ON_ERROR_STOP=1 "$DB_URI" -c "INSERT INTO items (n) VALUES (-2) RETURNING id" | head -1)
  [ "$o2" = $((o + 1)) ] && [ "$i2" = $((i + 1)) ] ||
    fail "after the rollback the source numbered '$o2' and '$i2', not $((o + 1)) and $((i + 1))"
  check "drain after rollback" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  check "verify" $SEGUE verify "$d/m.yaml" >/dev/null
}

run_tests
