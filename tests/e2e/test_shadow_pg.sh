#!/usr/bin/env bash
# Shadow reads on PostgreSQL, from the server's own query log: a private
# server logging every statement with its duration to jsonlog
# (log_min_duration_statement = 0), pgbench's select-only script in the
# simple and the extended protocol, replayed through a mapping that renames
# every column into another database.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
. tests/lib/pg.sh
. tests/e2e/pg_lib.sh

pg_start -c logging_collector=on -c log_destination=jsonlog -c log_directory=log \
  -c log_min_duration_statement=0 >/dev/null || { echo "FAIL cannot start PostgreSQL"; exit 1; }

# statements of the server's log that ran in database $1, matching $2
logged() { cat "$PG_DIR"/data/log/*.json 2>/dev/null | grep -F "\"dbname\":\"$1\"" | grep -c -- "$2"; }
logged_at_least() { [ "$(logged "$1" "$2")" -ge "$3" ]; }
# the server's log into file $3 once it holds a statement of database $1
# matching $2
log_once_holds() { # db pattern file
  wait_for "the log holds the reads" 60 logged_at_least "$1" "$2" 1 || return 1
  cat "$PG_DIR"/data/log/*.json > "$3"
}
# a shadow report's outcomes and examples, for a failure message
outcomes_examples() { echo "$1" | jq -c '[.outcomes, [.fingerprints[].examples[]]]'; }

accounts_into() { # spec source target
  printf 'version: 1\nname: shpg\nsource: %s\ntarget: %s\nmappings:\n  - from: pgbench_accounts\n    to: accounts\n    create: true\n    columns: {id: aid, branch: bid, balance: abalance, pad: filler}\n' \
    "$2" "$3" > "$1"
}

# pgbench -S in both protocols: one fingerprint, every read matches; five
# target rows changed behind segue's back: each read of them a mismatch
# that names the row, exit 3
test_pgbench_select_only_replayed_into_another_database() {
  fresh_db shtgt || { fail "fresh database"; return; }
  local dst=$DB_URI d; d=$(scratch)
  fresh_db shsrc || { fail "fresh database"; return; }
  "$PG_BIN/pgbench" -i -q -s 1 "$DB_URI" >/dev/null 2>&1 || { fail "pgbench -i"; return; }
  accounts_into "$d/m.yaml" "$DB_URI" "$dst"
  started_caught_up "$d/m.yaml"
  "$PG_BIN/pgbench" -n -S -t 100 -c 2 "$DB_URI" >/dev/null 2>&1 || fail "pgbench -S"
  "$PG_BIN/pgbench" -n -S -M prepared -t 100 -c 2 "$DB_URI" >/dev/null 2>&1 || fail "pgbench -S -M prepared"
  local i
  for i in 1 2 3 4 5 6 7 8; do
    psql -Xq "$DB_URI" -c "SELECT aid, abalance FROM pgbench_accounts WHERE aid = $i" >/dev/null
  done
  psql -Xq "$DB_URI" -c "SELECT aid, bid, abalance FROM pgbench_accounts WHERE aid BETWEEN 1 AND 20 ORDER BY aid" >/dev/null
  wait_for "the log holds the reads" 60 logged_at_least shsrc "aid BETWEEN 1 AND 20" 1 || return
  wait_for "the log holds pgbench's reads" 60 logged_at_least shsrc "execute P_0: SELECT abalance" 200 || return
  cat "$PG_DIR"/data/log/*.json > "$d/log.json"
  local out; out=$($SEGUE shadow "$d/m.yaml" --log "$d/log.json" --database shsrc --json) ||
    fail "shadow: exit $?: $(echo "$out" | jq -c .outcomes)"
  [ "$(echo "$out" | jq '.outcomes.match')" = 409 ] && [ "$(echo "$out" | jq '.outcomes.mismatch')" = 0 ] ||
    fail "shadow outcomes: $(echo "$out" | jq -c .outcomes)"
  [ "$(echo "$out" | jq '[.fingerprints[] | select(.query | test("SELECT abalance FROM pgbench_accounts WHERE aid"))] | length')" = 1 ] ||
    fail "pgbench's read has more than one fingerprint: $(echo "$out" | jq -c '[.fingerprints[] | .query]')"
  [ "$(echo "$out" | jq '.format')" = '"jsonlog"' ] && [ "$(echo "$out" | jq '.unreadable')" = 0 ] ||
    fail "format or unreadable lines: $(echo "$out" | jq -c '{format, unreadable}')"
  # five target rows changed behind segue's back
  pg_as_segue "$dst" "UPDATE accounts SET balance = balance + 7 WHERE id <= 5"
  out=$($SEGUE shadow "$d/m.yaml" --log "$d/log.json" --database shsrc --json); local rc=$?
  # our 6 reads of them (pgbench's random ones may hit them too)
  [ $rc = 3 ] && [ "$(echo "$out" | jq '.outcomes.mismatch')" -ge 6 ] ||
    fail "shadow after 5 changed rows: exit $rc: $(echo "$out" | jq -c .outcomes)"
  echo "$out" | jq -r '.fingerprints[].examples[]' | grep -q "mismatch: 1 rows only the source returns: (3, 0); 1 only the target returns: (3, 7)" ||
    fail "the changed row is not named: $(echo "$out" | jq -r '.fingerprints[].examples[]' | grep mismatch | head -3)"
}

# sysbench's oltp_read_only (point selects, ranges, SUM, ORDER BY,
# DISTINCT) through a mapping that renames every column and shifts one by
# a transform, into another database and into a new table of the same
# database; prepared (--db-ps-mode=auto) and simple protocol
# (--db-ps-mode=disable): every read matches, both sides' latencies are
# measured, and both protocols give the same fingerprints
SB_EVENTS=30 # x 14 reads each
sysbench_ro() { # db ps-mode
  sysbench oltp_read_only --db-driver=pgsql --pgsql-host=127.0.0.1 --pgsql-port="$PG_PORT" \
    --pgsql-user=postgres --pgsql-db="$1" --tables=1 --table-size=2000 --db-ps-mode="$2" \
    --events=$SB_EVENTS --threads=2 --rand-seed=7 run >/dev/null 2>&1
}
# the reads of the server's log after byte $2 into file $3, once it holds
# those of a sysbench run in database $1 whose lines match $4
log_slice() { # db from-byte file pattern
  wait_for "the log holds sysbench's reads" 60 logged_at_least "$1" "$4" $((SB_EVENTS * 14)) || return 1
  cat "$PG_DIR"/data/log/*.json | tail -c +$(($2 + 1)) > "$3"
}
log_bytes() { cat "$PG_DIR"/data/log/*.json | wc -c; }
sysbench_replayed() { # spec db target-uri target-table
  local d; d=$(dirname "$1")
  sysbench oltp_read_only --db-driver=pgsql --pgsql-host=127.0.0.1 --pgsql-port="$PG_PORT" \
    --pgsql-user=postgres --pgsql-db="$2" --tables=1 --table-size=2000 prepare >/dev/null 2>&1 ||
    { fail "sysbench prepare"; return; }
  started_caught_up "$1"
  local mode at out fps=""
  for mode in auto disable; do
    at=$(log_bytes)
    sysbench_ro "$2" $mode || { fail "sysbench --db-ps-mode=$mode"; return; }
    log_slice "$2" "$at" "$d/$mode.json" \
      "$([ $mode = auto ] && echo 'execute [^"]*FROM sbtest1' || echo 'statement: SELECT[^"]*FROM sbtest1')" || return
    out=$($SEGUE shadow "$1" --log "$d/$mode.json" --database "$2" --concurrency 2 --json) ||
      fail "shadow of sysbench --db-ps-mode=$mode: exit $?: $(outcomes_examples "$out")"
    [ "$(echo "$out" | jq -c '[.outcomes.match, .outcomes.mismatch, .outcomes.order_only, .unreadable]')" = "[$((SB_EVENTS * 14)),0,0,0]" ] ||
      fail "sysbench --db-ps-mode=$mode replayed: $(echo "$out" | jq -c '[.outcomes, .unreadable]')"
    [ "$(echo "$out" | jq '[.fingerprints[] | select(.outcomes.match > 0 and (.source_p50_us <= 0 or .target_p50_us <= 0))] | length')" = 0 ] ||
      fail "a fingerprint without latencies: $(echo "$out" | jq -c '[.fingerprints[] | [.query, .source_p50_us, .target_p50_us]]')"
    fps="$fps$(echo "$out" | jq -c '[.fingerprints[] | select(.outcomes.match > 0) | .fingerprint] | sort')
"
  done
  [ "$(echo "$fps" | sort -u | grep -c .)" = 1 ] && [ "$(echo "$fps" | head -1 | jq length)" = 5 ] ||
    fail "the two protocols' fingerprints differ (or are not sysbench's 5 reads): $fps"
  # the target side reads the new table: every c changed there, every
  # read of c a mismatch, SUM(k) still a match
  pg_as_segue "$3" "UPDATE $4 SET body = rtrim(body) || '!'"
  out=$($SEGUE shadow "$1" --log "$d/disable.json" --database "$2" --no-record --json); local rc=$?
  [ $rc = 3 ] && [ "$(echo "$out" | jq -c '[.outcomes.match, .outcomes.mismatch]')" = "[$SB_EVENTS,$((SB_EVENTS * 13))]" ] ||
    fail "c changed on the target: exit $rc: $(echo "$out" | jq -c .outcomes)"
}
sbtest_into() { # spec source target to-table
  printf 'version: 1\nname: sb\nsource: %s\ntarget: %s\nmappings:\n  - from: sbtest1\n    to: %s\n    create: true\n    columns:\n      row_id: id\n      k_shifted: {expr: "k + 1000000"}\n      body: c\n      padding: pad\n    reverse:\n      k: "k_shifted - 1000000"\n' \
    "$2" "$3" "$4" > "$1"
}
test_sysbench_read_only_into_another_database() {
  fresh_db sbtgt || { fail "fresh database"; return; }
  local dst=$DB_URI d; d=$(scratch)
  fresh_db sbsrc || { fail "fresh database"; return; }
  sbtest_into "$d/m.yaml" "$DB_URI" "$dst" sbtest
  sysbench_replayed "$d/m.yaml" sbsrc "$dst" sbtest
}
test_sysbench_read_only_into_the_same_database() {
  local d; d=$(scratch)
  fresh_db sbsame || { fail "fresh database"; return; }
  sbtest_into "$d/m.yaml" "$DB_URI" "$DB_URI" sbtest_v2
  sysbench_replayed "$d/m.yaml" sbsame "$DB_URI" sbtest_v2
}

# a table split into two targets (joined back on the key) and a mapping
# that moves only the rows its where filter takes (the source side
# filtered the same way, the filter's table named inside its own common
# table expression): the reads match
test_split_and_where_on_postgres() {
  fresh_db shtgt4 || { fail "fresh database"; return; }
  local dst=$DB_URI d; d=$(scratch)
  fresh_db shsrc4 || { fail "fresh database"; return; }
  psql -Xq -v ON_ERROR_STOP=1 "$DB_URI" -c "CREATE TABLE people (id int PRIMARY KEY, name text NOT NULL, city text, bio text);
    INSERT INTO people SELECT g, 'p' || g, (ARRAY['Oslo', 'Lima', 'Pune'])[g % 3 + 1], repeat('b', g % 50) FROM generate_series(1, 500) g;
    CREATE TABLE orders (id int PRIMARY KEY, person int, total numeric(10,2));
    INSERT INTO orders SELECT g, g % 500 + 1, (g % 97) * 1.5 FROM generate_series(1, 3000) g" >/dev/null ||
    { fail "source tables"; return; }
  printf 'version: 1\nname: splitwhere\nsource: %s\ntarget: %s\nmappings:\n  - {from: people, to: person_core, create: true, columns: {pid: id, full_name: name}}\n  - {from: people, to: person_more, create: true, columns: {pid: id, town: city, about: bio}}\n  - {from: orders, to: big_orders, create: true, where: "total >= 50", columns: {oid: id, buyer: person, amount: total}}\n' \
    "$DB_URI" "$dst" > "$d/m.yaml"
  started_caught_up "$d/m.yaml"
  psql -Xq "$DB_URI" -c "SELECT * FROM people WHERE id BETWEEN 10 AND 20 ORDER BY id" \
    -c "SELECT city, count(*), max(length(bio)) FROM people GROUP BY city ORDER BY city" \
    -c "SELECT p.name, sum(o.total) FROM people p JOIN orders o ON o.person = p.id WHERE p.id < 40 GROUP BY p.name ORDER BY 1" \
    -c "SELECT count(*), sum(total) FROM orders" >/dev/null
  log_once_holds shsrc4 "sum(total) FROM orders" "$d/log.json" || return
  local out; out=$($SEGUE shadow "$d/m.yaml" --log "$d/log.json" --database shsrc4 --json) ||
    fail "shadow: exit $?: $(outcomes_examples "$out")"
  # (the set-up statement above is skipped: not a read)
  [ "$(echo "$out" | jq -c '[.outcomes.match, .outcomes.mismatch, .outcomes.skipped]')" = "[4,0,1]" ] ||
    fail "split and where: $(outcomes_examples "$out")"
}

# bad input, each counted, none fatal, nothing written anywhere: a log
# with a garbage line, bad UTF-8, a NUL byte, a statement that writes
# (skipped, never run) and a cut last line; a result of 1 GB per side
# (hashed row by row: memory stays bounded); then the target going away
# in the middle of a replay (its errors counted, the replay goes on, the
# outcomes it could not record said, exit 1)
jline() { printf '{"dbname":"%s","application_name":"psql","message":"duration: 0.1 ms  statement: %s"}\n' "$1" "$2"; }
test_bad_input_and_a_target_going_away() {
  fresh_db shtgt6 || { fail "fresh database"; return; }
  local dst=$DB_URI d i; d=$(scratch)
  fresh_db shsrc6 || { fail "fresh database"; return; }
  "$PG_BIN/pgbench" -i -q -s 1 "$DB_URI" >/dev/null 2>&1 || { fail "pgbench -i"; return; }
  accounts_into "$d/m.yaml" "$DB_URI" "$dst"
  started_caught_up "$d/m.yaml"
  local before; before=$(psql -XAtq "$DB_URI" -c "SELECT sum(abalance::bigint * aid), count(*) FROM pgbench_accounts")
  { for i in $(seq 1 20); do jline shsrc6 "SELECT abalance FROM pgbench_accounts WHERE aid = $i"; done
    echo 'garbage { not json'
    printf '{"dbname":"shsrc6","message":"duration: 0.1 ms  statement: SELECT \xff\xfe"}\n'
    printf '{"dbname":"shsrc6","message":"duration: 0.1 ms  statement: SELECT 1\0"}\n'
    jline shsrc6 "UPDATE pgbench_accounts SET abalance = -999 WHERE aid = 1"
    jline shsrc6 "SELECT aid, repeat('x', 1000000) FROM pgbench_accounts WHERE aid <= 1000"
    printf '{"dbname":"shsrc6","message":"duration: 0.1 ms  statement: SELECT 1' ; } > "$d/bad.json"
  local out; out=$(ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16" \
    $SEGUE shadow "$d/m.yaml" --log "$d/bad.json" --database shsrc6 --no-record --json) ||
    fail "shadow of a bad log: exit $?: $out"
  [ "$(echo "$out" | jq -c '[.queries, .outcomes.match, .outcomes.skipped, .unreadable]')" = "[22,21,1,4]" ] ||
    fail "bad log: $(echo "$out" | jq -c '[.queries, .outcomes, .unreadable]')"
  echo "$out" | jq -r '.fingerprints[].examples[]' | grep -q "skipped: is not a SELECT: UpdateStmt" ||
    fail "the write is not named: $(echo "$out" | jq -c '[.fingerprints[].examples[]]')"
  # 1000 rows of 1 MB on each side, held as 16-byte digests (ASan holds
  # freed memory back: a small quarantine for this run)
  local rss; rss=$(echo "$out" | jq .max_rss_kb)
  [ "$rss" -lt 300000 ] || fail "peak memory $rss kB replaying a 1 GB result"
  [ "$(psql -XAtq "$DB_URI" -c "SELECT sum(abalance::bigint * aid), count(*) FROM pgbench_accounts")" = "$before" ] ||
    fail "the source changed"
  # the target goes away after the first reads
  for i in $(seq 1 60); do jline shsrc6 "SELECT abalance FROM pgbench_accounts WHERE aid = $i"; done > "$d/reads.json"
  $SEGUE shadow "$d/m.yaml" --log "$d/reads.json" --rate 30 --status-interval 50ms --json > "$d/away.json" 2> "$d/away.err" &
  local sh=$!
  wait_for "the first reads" 60 grep -q "shadow: \([5-9]\|[1-9][0-9]\) read" "$d/away.err" || { kill $sh; return; }
  psql -Xq "$PG_URI" -c "ALTER DATABASE shtgt6 ALLOW_CONNECTIONS false" \
    -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = 'shtgt6'" >/dev/null
  wait $sh; local rc=$?
  psql -Xq "$PG_URI" -c "ALTER DATABASE shtgt6 ALLOW_CONNECTIONS true" >/dev/null
  [ $rc = 1 ] && [ "$(jq '.queries' "$d/away.json")" = 60 ] && [ "$(jq '.outcomes.match >= 5 and .outcomes.target_error >= 1 and .outcomes.source_error == 0' "$d/away.json")" = true ] &&
    grep -q "outcomes could not be recorded" "$d/away.err" ||
    fail "the target going away: exit $rc: $(jq -c '[.queries, .outcomes]' "$d/away.json") $(grep -v '^shadow:' "$d/away.err")"
}

# PostgreSQL reads replayed on the SQLite file a table moved into: each
# engine answers in its own types (numeric 12.50 and boolean true in
# PostgreSQL, the REAL 12.5 and the integer 1 in SQLite), compared in one
# portable form: the reads match; a changed amount is still a mismatch
test_postgres_reads_on_a_sqlite_target() {
  local d; d=$(scratch)
  fresh_db shsrc7 || { fail "fresh database"; return; }
  psql -Xq -v ON_ERROR_STOP=1 "$DB_URI" -c "CREATE TABLE ledger (id int PRIMARY KEY, amount numeric(10,2), paid boolean, note text, ratio double precision);
    INSERT INTO ledger SELECT g, g * 2.25, g % 3 = 0, 'n' || g, g / 8.0 FROM generate_series(1, 300) g" >/dev/null ||
    { fail "source table"; return; }
  printf 'version: 1\nname: tosqlite\nsource: %s\ntarget: sqlite:%s/t.db\nmappings:\n  - {from: ledger, to: ledger, create: true}\n' \
    "$DB_URI" "$d" > "$d/m.yaml"
  started_caught_up "$d/m.yaml"
  psql -Xq "$DB_URI" -c "SELECT * FROM ledger WHERE id = 7" -c "SELECT count(*), sum(amount), sum(ratio) FROM ledger WHERE paid" \
    -c "SELECT id, note, amount FROM ledger WHERE amount > 600 ORDER BY id" -c "SELECT paid, count(*) FROM ledger GROUP BY paid ORDER BY paid" >/dev/null
  log_once_holds shsrc7 "GROUP BY paid" "$d/log.json" || return
  local out; out=$($SEGUE shadow "$d/m.yaml" --log "$d/log.json" --database shsrc7 --json) ||
    fail "shadow into SQLite: exit $?: $(outcomes_examples "$out")"
  [ "$(echo "$out" | jq -c '[.outcomes.match, .outcomes.mismatch, .outcomes.target_error]')" = "[4,0,0]" ] ||
    fail "into SQLite: $(outcomes_examples "$out")"
  as_segue "$d/t.db" "UPDATE ledger SET amount = amount + 0.01 WHERE id = 7"
  out=$($SEGUE shadow "$d/m.yaml" --log "$d/log.json" --database shsrc7 --json)
  echo "$out" | jq -r '.fingerprints[].examples[]' | grep -q "only the target returns: (7, 15.76" ||
    fail "a changed amount in SQLite: $(outcomes_examples "$out")"
}

# shadow --follow on the server's live jsonlog (the file current_logfiles
# names): reads made after it started are compared as the collector
# writes them, and recorded for status
shadow_compared_at_least() { [ "$($SEGUE status "$1" --json | jq '.shadow.compared')" -ge "$2" ]; }
test_follow_the_live_jsonlog() {
  fresh_db shtgt8 || { fail "fresh database"; return; }
  local dst=$DB_URI d i; d=$(scratch)
  fresh_db shsrc8 || { fail "fresh database"; return; }
  "$PG_BIN/pgbench" -i -q -s 1 "$DB_URI" >/dev/null 2>&1 || { fail "pgbench -i"; return; }
  accounts_into "$d/m.yaml" "$DB_URI" "$dst"
  started_caught_up "$d/m.yaml"
  local log; log=$PG_DIR/data/$(grep jsonlog "$PG_DIR/data/current_logfiles" | cut -d' ' -f2)
  [ -f "$log" ] || { fail "no current jsonlog: $(cat "$PG_DIR/data/current_logfiles")"; return; }
  $SEGUE shadow "$d/m.yaml" --log "$log" --database shsrc8 --follow --json > "$d/f.json" 2> "$d/f.err" &
  local sh=$!
  for i in $(seq 1 30); do echo "SELECT abalance FROM pgbench_accounts WHERE aid = $i;"; done | psql -Xq "$DB_URI" >/dev/null
  wait_for "30 reads followed and recorded" 60 shadow_compared_at_least "$d/m.yaml" 30 || { kill $sh; return; }
  kill -TERM $sh; wait $sh; local rc=$?
  [ $rc = 0 ] && [ "$(jq -c '[.outcomes.match, .outcomes.mismatch]' "$d/f.json")" = "[30,0]" ] ||
    fail "follow of the live log: exit $rc: $(jq -c .outcomes "$d/f.json") $(cat "$d/f.err")"
}

# what verify cannot see: a transform that loses precision (the target
# equals the mapping of the source, but the old query reads other sums: a
# mismatch) and a target column with another collation under an ORDER BY
# (the same rows in another order: order-only), each under its own
# fingerprint; exit 3
test_lossy_transform_and_collation_found() {
  fresh_db shtgt2 || { fail "fresh database"; return; }
  local dst=$DB_URI d; d=$(scratch)
  fresh_db shsrc2 || { fail "fresh database"; return; }
  psql -Xq -v ON_ERROR_STOP=1 "$DB_URI" -c "CREATE TABLE items (id int PRIMARY KEY, name text COLLATE \"C\", price numeric(10,2));
    INSERT INTO items SELECT g, (ARRAY['apple', 'Banana', 'cherry', 'Date'])[g % 4 + 1] || g, g * 1.37 FROM generate_series(1, 40) g" >/dev/null ||
    { fail "source table"; return; }
  printf 'version: 1\nname: lossy\nsource: %s\ntarget: %s\nmappings:\n  - from: items\n    to: goods\n    create: true\n    columns:\n      id: id\n      label: name\n      price: {expr: "round(price, 1)::numeric(10,2)"}\n    reverse:\n      price: price\n' \
    "$DB_URI" "$dst" > "$d/m.yaml"
  started_caught_up "$d/m.yaml"
  check "verify (the target is what the mapping says)" $SEGUE verify "$d/m.yaml" >/dev/null
  psql -Xq -v ON_ERROR_STOP=1 "$dst" -c 'ALTER TABLE goods ALTER COLUMN label TYPE text COLLATE "und-x-icu"' >/dev/null ||
    fail "collation on the target: $(psql -Xq "$dst" -c 'ALTER TABLE goods ALTER COLUMN label TYPE text COLLATE "und-x-icu"' 2>&1)"
  psql -Xq "$DB_URI" -c "SELECT sum(price) FROM items" -c "SELECT id, name FROM items ORDER BY name" \
    -c "SELECT count(*) FROM items WHERE name LIKE 'a%'" >/dev/null
  log_once_holds shsrc2 "FROM items WHERE name LIKE" "$d/log.json" || return
  local out; out=$($SEGUE shadow "$d/m.yaml" --log "$d/log.json" --database shsrc2 --json); local rc=$?
  [ $rc = 3 ] || fail "shadow: exit $rc"
  kind_of() { echo "$out" | jq -r --arg q "$1" '.fingerprints[] | select(.query | contains($q)) | .outcomes | to_entries[] | select(.value > 0) | .key'; }
  [ "$(kind_of "sum(price)")" = mismatch ] || fail "the rounded sum: $(kind_of "sum(price)")"
  [ "$(kind_of "ORDER BY name")" = order_only ] || fail "the other collation: $(kind_of "ORDER BY name")"
  [ "$(kind_of "LIKE 'a%'")" = match ] || fail "a read the changes do not touch: $(kind_of "LIKE 'a%'") $(echo "$out" | jq -c "[.fingerprints[] | {query, outcomes}]")"
}

# a secondary index the target lacks: the read it served scans the table
# there, and its p99 ratio (about 100x here: 300k rows scanned against an
# index search) flags its fingerprint slow under --max-p99-ratio, exit 3;
# the rows still match
test_dropped_index_is_slow() {
  fresh_db shtgt3 || { fail "fresh database"; return; }
  local dst=$DB_URI d; d=$(scratch)
  fresh_db shsrc3 || { fail "fresh database"; return; }
  psql -Xq -v ON_ERROR_STOP=1 "$DB_URI" -c "CREATE TABLE events (id int PRIMARY KEY, user_id int, payload text);
    INSERT INTO events SELECT g, g % 5000, repeat('x', 60) FROM generate_series(1, 300000) g;
    CREATE INDEX events_user ON events (user_id); ANALYZE events" >/dev/null || { fail "source table"; return; }
  printf 'version: 1\nname: slow\nsource: %s\ntarget: %s\nmappings:\n  - {from: events, to: events, create: true}\n' \
    "$DB_URI" "$dst" > "$d/m.yaml"
  started_caught_up "$d/m.yaml"
  psql -Xq -v ON_ERROR_STOP=1 "$dst" -c "DROP INDEX events_user" -c "ANALYZE events" >/dev/null || fail "drop the index"
  local i
  for i in $(seq 20); do psql -Xq "$DB_URI" -c "SELECT count(*) FROM events WHERE user_id = $((i * 37))" >/dev/null; done
  log_once_holds shsrc3 "user_id = 740" "$d/log.json" || return
  local out; out=$($SEGUE shadow "$d/m.yaml" --log "$d/log.json" --database shsrc3 --max-p99-ratio 3 --json); local rc=$?
  local fp; fp=$(echo "$out" | jq -c '.fingerprints[] | select(.query | contains("WHERE user_id =")) | {slow, p99_ratio, source_p99_us, target_p99_us, outcomes: .outcomes.match}')
  [ $rc = 3 ] && echo "$fp" | grep -q '"slow":true' && echo "$fp" | grep -q '"outcomes":20' ||
    fail "shadow with the index dropped on the target: exit $rc: $fp"
}

run_tests
