#!/usr/bin/env bash
# Safety on SQLite files: commands that race each other (one wins, the
# other is refused with the phase it found), made deterministic by stopping
# one at a named point (tests/tools/crashpoint), never by timing.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

spec_track() { # dir
cat > "$1/m.yaml" <<YAML
version: 1
name: e2e
source: sqlite:$1/src.db
target: sqlite:$1/tgt.db
mappings:
  - from: Track
    to: track_v2
    create: true
backfill:
  chunk_time: 50ms
YAML
}

# Track -> track_v2 in two files: backfilled, verified, reads at 100 %
ready_for_writes() { # dir
  fresh_chinook "$1/src.db"
  spec_track "$1"
  check "start" $SEGUE start "$1/m.yaml" >/dev/null &&
    check "run" $SEGUE run "$1/m.yaml" --until caught-up >/dev/null &&
    check "verify" $SEGUE verify "$1/m.yaml" >/dev/null &&
    check "reads 100" with_worker "$1/m.yaml" with_worker "$1/m.yaml" $SEGUE cutover "$1/m.yaml" --reads 100 >/dev/null
}

# an application transaction holds the source's write lock: cutover --writes
# says what it waits for, gives up after --timeout changing nothing, and
# succeeds once the transaction commits, with its write carried over
write_lock_held() { ! sqlite3 "$1" "BEGIN IMMEDIATE; ROLLBACK" >/dev/null 2>&1; }
cutover_behind_a_lock() { # dir
  local d=$1 holder out rc
  mkfifo "$d/ctl"
  # (a busy timeout: the worker may be writing to the file just then)
  sqlite3 -cmd ".timeout 30000" "$d/src.db" < "$d/ctl" >/dev/null 2>&1 &
  holder=$!
  exec 7>"$d/ctl"
  echo "BEGIN IMMEDIATE; UPDATE Track SET Name = 'held' WHERE TrackId = 1;" >&7
  wait_for "the application holds the write lock" 30 write_lock_held "$d/src.db" || return 1
  out=$($SEGUE cutover "$d/m.yaml" --writes --timeout 1s 2>&1); rc=$?
  [ $rc = 1 ] || fail "cutover behind a lock exited $rc: $out"
  echo "$out" | grep -q "waiting up to 1.0 s (--timeout) for transactions that hold write locks" ||
    fail "cutover did not say what it waits for: $out"
  echo "$out" | grep -q "held a lock past the lock wait (1000 ms); nothing changed" ||
    fail "cutover's message when it gave up: $out"
  [ "$($SEGUE status "$d/m.yaml" --json | jq -r .write_side)" = source ] || fail "writes moved"
  echo "COMMIT;" >&7
  exec 7>&-
  wait $holder
  # the held write is older than gates.max_lag by now: the worker applies it
  wait_for "the worker applied the held write" 60 worker_ready "$d/m.yaml" || return 1
  out=$($SEGUE cutover "$d/m.yaml" --writes --timeout 30s 2>&1) || fail "cutover after the commit: $out"
}
test_cutover_writes_behind_a_held_lock() {
  local d; d=$(scratch); ready_for_writes "$d" || return
  with_worker "$d/m.yaml" cutover_behind_a_lock "$d" || fail "lock holder"
  [ "$(sqlite3 "$d/tgt.db" "SELECT Name FROM track_v2 WHERE TrackId = 1")" = held ] ||
    fail "the held transaction's write did not reach the target"
  $SEGUE cutover "$d/m.yaml" --writes --timeout 5 >/dev/null 2>&1; [ $? = 2 ] || fail "--timeout 5 (no unit) not exit 2"
}

# abort checked the phase (reads_shifting), then a write cutover won and the
# application wrote to the target: abort must be refused, not drop the table
test_abort_refused_after_a_cutover_that_won() {
  local d; d=$(scratch); ready_for_writes "$d" || return
  stopped_at "$d/m.yaml" abort:checked abort "$d/abort.log" || return
  local ab=$STOPPED
  check "cutover --writes" with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --writes >/dev/null
  sqlite3 "$d/tgt.db" "INSERT INTO track_v2 (TrackId, Name, MediaTypeId, Milliseconds, UnitPrice)
    VALUES (990001, 'after the cutover', 1, 1, 1)" || fail "target write after the cutover"
  kill -CONT $ab
  wait $ab && fail "abort succeeded after the write cutover"
  grep -q "cannot abort: migration 'e2e' is writes_switched" "$d/abort.log" ||
    fail "abort's refusal: $(cat "$d/abort.log")"
  [ "$(sqlite3 "$d/tgt.db" "SELECT count(*) FROM track_v2 WHERE TrackId = 990001")" = 1 ] ||
    fail "the application's write after the cutover is gone"
  sqlite3 "$d/src.db" "UPDATE Track SET Name = 'x' WHERE TrackId = 9" 2>/dev/null &&
    fail "the source takes writes after the cutover"
  check "rollback" $SEGUE rollback "$d/m.yaml" >/dev/null
  [ "$(sqlite3 "$d/src.db" "SELECT count(*) FROM Track WHERE TrackId = 990001")" = 1 ] ||
    fail "the write after the cutover did not come back with the rollback"
}

# two write cutovers: the one that checked first and lost is refused
test_second_cutover_refused() {
  local d; d=$(scratch); ready_for_writes "$d" || return
  stopped_at "$d/m.yaml" cutover:checked cutover "$d/a.log" || return
  local a=$STOPPED
  check "the other cutover" with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --writes >/dev/null
  kill -CONT $a
  wait $a && fail "both write cutovers succeeded"
  grep -q "cannot cutover --writes: migration 'e2e' is writes_switched" "$d/a.log" ||
    fail "the second cutover's refusal: $(cat "$d/a.log")"
  [ "$(sqlite3 "$d/tgt.db" "SELECT count(*) FROM _segue_audit WHERE action = 'cutover_writes'")" = 1 ] ||
    fail "more than one write cutover in the audit log"
}

# a live writer on the source (or the given database and table) until
# $1/stop exists; sets WRITER. It keeps off keys below 100, where tests
# inject differences (a write there would be applied over the injected one,
# rightly, and verify find nothing)
live_writer() { # dir [database table]
  rm -f "$1/stop"
  (while [ ! -e "$1/stop" ]; do
     sqlite3 -cmd '.timeout 60000' "${2:-$1/src.db}" \
       "UPDATE ${3:-Track} SET Milliseconds = Milliseconds + 1 WHERE TrackId = $((RANDOM % 2900 + 100))" || exit 1
   done) &
  WRITER=$!
}

# gates under a live writer: a verify that finds a difference takes the
# migration out of verified and refuses the read cutover; a clean verify
# lets it through; with no worker and changes waiting, the cutover is
# refused naming the lag and the missing worker; --force --reason passes
# them once, in the audit log
test_gates_hold_under_a_live_writer() {
  local d; d=$(scratch); fresh_chinook "$d/src.db"; spec_track "$d"
  check "start" $SEGUE start "$d/m.yaml" >/dev/null
  live_writer "$d"
  check "run" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  check "verify" $SEGUE verify "$d/m.yaml" >/dev/null
  # a write that passes the guard the way segue does (SQLite cannot tell)
  as_segue "$d/tgt.db" "UPDATE track_v2 SET Name = 'drift' WHERE TrackId = 5" || fail "inject"
  $SEGUE verify "$d/m.yaml" >/dev/null 2>&1; [ $? = 3 ] || fail "verify did not find the difference"
  $SEGUE status "$d/m.yaml" | grep -q "last verify      1 difference, [0-9]*s ago: .*bypassed segue's capture or guard" ||
    fail "status does not say what verify found: $($SEGUE status "$d/m.yaml")"
  $SEGUE status "$d/m.yaml" --json | grep -q '"last_verify_differences":1' || fail "status --json"
  local out
  out=$(with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --reads 10 2>&1) &&
    fail "cutover --reads after a failed verify: $out"
  echo "$out" | grep -q "is backfilled" || fail "refusal after a failed verify: $out"
  check "verify --repair" $SEGUE verify "$d/m.yaml" --repair >/dev/null
  $SEGUE status "$d/m.yaml" | grep -q "last verify      clean, [0-9]*s ago" || fail "status after the repair"
  check "reads 10 after a clean verify" with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --reads 10 >/dev/null
  # while reads shift, a verify that fails refuses the next step by its gate
  as_segue "$d/tgt.db" "UPDATE track_v2 SET Name = 'drift' WHERE TrackId = 6" || fail "inject"
  $SEGUE verify "$d/m.yaml" >/dev/null 2>&1; [ $? = 3 ] || fail "verify did not find the difference"
  out=$(with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --reads 50 2>&1) &&
    fail "cutover --reads 50 after a failed verify: $out"
  echo "$out" | grep -q "verify_clean: the last verify (.* ago) found 1 difference" ||
    fail "the verify gate's refusal: $out"
  check "verify --repair" $SEGUE verify "$d/m.yaml" --repair >/dev/null
  # no worker: changes wait until the oldest is past the 1 s limit
  lagging() { [ "$($SEGUE status "$d/m.yaml" --json | jfield lag_ms)" -ge 1500 ]; }
  wait_for "changes wait over 1.5 s" 60 lagging
  out=$($SEGUE cutover "$d/m.yaml" --reads 100 2>&1) && fail "cutover with no worker: $out"
  echo "$out" | grep -q "worker_alive: no worker holds the lease" || fail "no worker named: $out"
  echo "$out" | grep -q "lag: [0-9]* changes\? pending, the oldest .* old; needs at most 1s" ||
    fail "lag not named with value and limit: $out"
  check "--force --reason" $SEGUE cutover "$d/m.yaml" --reads 100 --force --reason "drill" >/dev/null
  [ "$(sqlite3 "$d/tgt.db" "SELECT count(*) FROM _segue_audit WHERE action = 'gate_forced'
    AND reason = 'drill' AND (detail LIKE 'gate lag passed by force: %' OR detail LIKE 'gate worker_alive%')")" = 2 ] ||
    fail "forced gates not audited: $(sqlite3 "$d/tgt.db" "SELECT detail FROM _segue_audit WHERE action = 'gate_forced'")"
  $SEGUE cutover "$d/m.yaml" --reads 100 >/dev/null 2>&1 && fail "--force held for more than one step"
  touch "$d/stop"; wait $WRITER || fail "the live writer failed"
  check "drain" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  local n; n=$(sqlite3 "$d/src.db" "ATTACH '$d/tgt.db' AS t; SELECT
    (SELECT count(*) FROM (SELECT * FROM Track EXCEPT SELECT * FROM t.track_v2)) +
    (SELECT count(*) FROM (SELECT * FROM t.track_v2 EXCEPT SELECT * FROM Track))")
  [ "$n" = 0 ] ||
    fail "independent EXCEPT finds differences"
}

# after cleanup every read and write goes to the target and `route` says the
# migration is complete; a misspelt migration name is an error, not "source"
test_route_after_cleanup_and_for_unknown_names() {
  local d; d=$(scratch); ready_for_writes "$d" || return
  sed 's/^name: e2e/name: e2e-misspelt/' "$d/m.yaml" > "$d/typo.yaml"
  local out
  out=$($SEGUE route "$d/typo.yaml" 42 2>&1) && fail "route for an unknown migration: $out"
  echo "$out" | grep -q "no migration named 'e2e-misspelt'" || fail "unknown name's error: $out"
  check "writes" with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --writes >/dev/null
  check "cleanup" $SEGUE cleanup "$d/m.yaml" >/dev/null
  out=$($SEGUE route "$d/m.yaml" 42) || fail "route after cleanup failed"
  echo "$out" | grep -q "read from target, write to target (the migration is complete)" ||
    fail "route after cleanup: $out"
  out=$($SEGUE route "$d/m.yaml" 42 --json)
  echo "$out" | grep -q '"complete":true' || fail "route --json after cleanup: $out"
}

# the way back exists before the way forward: a reverse that leaves a
# NOT NULL source column without a default unwritten is a plan blocker and
# start refuses it, changing nothing; the README's quick-start spec passes,
# and a row inserted on the target after the write cutover comes back
test_the_way_back_is_checked_at_start() {
  local d; d=$(scratch); fresh_chinook "$d/src.db"
  sed -n "/^cat > migration.yaml <<'YAML'/,/^YAML/p" README.md | sed '1d;$d' |
    sed "s|sqlite:chinook.db|sqlite:$d/src.db|; s|sqlite:chinook-v2.db|sqlite:$d/tgt.db|" > "$d/m.yaml"
  grep -q "reverse:" "$d/m.yaml" || { fail "no quick-start spec found in README.md"; return; }
  sed 's/first_name: FirstName, //' "$d/m.yaml" > "$d/narrow.yaml"
  local out
  out=$($SEGUE plan "$d/narrow.yaml" 2>&1)
  echo "$out" | grep -q "source column 'FirstName', which is NOT NULL with no default" ||
    fail "plan does not block a reverse that cannot write FirstName: $out"
  out=$($SEGUE start "$d/narrow.yaml" 2>&1) && fail "start accepted a reverse with no way back"
  echo "$out" | grep -q "narrow.yaml:[0-9]*: Customer -> customer: .*'FirstName'" ||
    fail "start's refusal: $out"
  [ "$(sqlite3 "$d/src.db" "SELECT count(*) FROM sqlite_master WHERE name LIKE '_segue%'")" = 0 ] ||
    fail "the refused start changed the source"
  check "start (README spec)" $SEGUE start "$d/m.yaml" >/dev/null
  check "run" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  check "verify" $SEGUE verify "$d/m.yaml" >/dev/null
  check "reads" with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --reads 100 >/dev/null
  check "writes" with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --writes >/dev/null
  sqlite3 "$d/tgt.db" "INSERT INTO customer (customer_id, first_name, last_name, email, country)
    VALUES (9001, 'Ada', 'Lovelace', 'ada@example.org', 'UK')" || fail "insert into the new table"
  check "rollback" $SEGUE rollback "$d/m.yaml" >/dev/null
  [ "$(sqlite3 "$d/src.db" "SELECT FirstName || ' ' || LastName || ' ' || Email FROM Customer WHERE CustomerId = 9001")" = \
    "Ada Lovelace ada@example.org" ] || fail "the row inserted on the target did not come back"
}

# schema drift under a live writer: a column added to the source after
# start is not copied (status says so) and the worker and verify go on; a
# copied column dropped from the source, or from the target, stops the
# worker once, naming it, and status names it; restored, the migration
# converges and verifies clean
# a worker whose output goes to a file says how it does every
# --status-interval; its rate keeps to max_rows_per_second; status shows the
# total, rate and ETA meanwhile, and the error that stopped the worker after
status_line_re='segue run e2e: copied [0-9]+/3503 \([0-9.]+%\), [0-9]+ rows/s; applied [0-9]+, backlog [0-9]+, lag [0-9]+ ms; phase [a-z_]+; ETA'
has_status_lines() { [ "$(grep -cE "$status_line_re" "$1")" -ge "$2" ]; }
status_has_rate() { [ "$($SEGUE status "$1" --json | jq '.backfill_rows_per_sec > 0 and .backfill_total == 3503')" = true ]; }
test_worker_reports_off_a_terminal() {
  local d; d=$(scratch); fresh_chinook "$d/src.db"; spec_track "$d"
  printf '  max_rows_per_second: 500\n' >> "$d/m.yaml"
  check "start" $SEGUE start "$d/m.yaml" >/dev/null
  $SEGUE run "$d/m.yaml" --status-interval 1s > "$d/run.log" 2>&1 &
  local w=$!
  wait_for "a status line in the worker's log" 60 has_status_lines "$d/run.log" 2 || { kill $w; return; }
  wait_for "status shows the backfill's rate" 60 status_has_rate "$d/m.yaml"
  local st; st=$($SEGUE status "$d/m.yaml" --json)
  [ "$(echo "$st" | jq '.backfill_rows_per_sec <= 550 and .backfill_eta_sec >= 0')" = true ] ||
    fail "status rate or ETA under a 500 rows/s cap: $st"
  $SEGUE status "$d/m.yaml" | grep -qE "not complete, [0-9]+/3503 rows \([0-9.]+%\), [0-9]+ rows/s, ETA" ||
    fail "status text: $($SEGUE status "$d/m.yaml")"
  local r; for r in $(grep -oE '[0-9]+ rows/s' "$d/run.log" | cut -d' ' -f1); do
    [ "$r" -le 550 ] || fail "the worker reported $r rows/s under a 500 rows/s cap: $(cat "$d/run.log")"
  done
  wait_for "the worker caught up" 120 worker_ready "$d/m.yaml" || { kill $w; return; }
  sqlite3 -cmd '.timeout 60000' "$d/tgt.db" "ALTER TABLE track_v2 DROP COLUMN Composer" || fail "drop"
  sqlite3 -cmd '.timeout 60000' "$d/src.db" "UPDATE Track SET Name = 'x' WHERE TrackId = 30" || fail "update"
  wait $w && fail "the worker went on without track_v2.Composer"
  st=$($SEGUE status "$d/m.yaml" --json)
  echo "$st" | jq -r .worker_error | grep -q "no longer has column 'Composer'" || fail "status worker_error: $st"
  $SEGUE status "$d/m.yaml" | grep -q "worker error .*s ago: .*Composer" || fail "status text: $($SEGUE status "$d/m.yaml")"
}

test_schema_drift_is_named_once() {
  local d; d=$(scratch); fresh_chinook "$d/src.db"; spec_track "$d"
  check "start" $SEGUE start "$d/m.yaml" >/dev/null
  live_writer "$d"
  check "run" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  sqlite3 -cmd '.timeout 60000' "$d/src.db" "ALTER TABLE Track ADD COLUMN Tier TEXT; UPDATE Track SET Tier = 'gold', Name = 'tiered'
    WHERE TrackId <= 20" || fail "add column"
  check "run after ADD COLUMN" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  check "verify after ADD COLUMN" $SEGUE verify "$d/m.yaml" >/dev/null
  [ "$(sqlite3 "$d/tgt.db" "SELECT count(*) FROM track_v2 WHERE Name = 'tiered'")" = 20 ] ||
    fail "changes after ADD COLUMN were not applied"
  $SEGUE status "$d/m.yaml" --json | grep -q '"not_copied":"Track.Tier"' ||
    fail "status does not name the column not copied: $($SEGUE status "$d/m.yaml" --json)"
  local side db table out
  for side in source target; do
    db=$d/src.db table=Track; [ $side = target ] && db=$d/tgt.db table=track_v2
    sqlite3 -cmd '.timeout 60000' "$db" "ALTER TABLE $table DROP COLUMN Composer" || fail "drop column ($side)"
    sqlite3 -cmd '.timeout 60000' "$d/src.db" "UPDATE Track SET Name = 'after drop' WHERE TrackId = 30" || fail "update"
    out=$($SEGUE run "$d/m.yaml" --until caught-up 2>&1) && fail "the worker went on without $table.Composer"
    echo "$out" | grep -q "$side table '$table' no longer has column 'Composer'" || fail "drift message ($side): $out"
    [ "$(echo "$out" | grep -c "schema drift")" = 1 ] || fail "the drift was named more than once: $out"
    $SEGUE status "$d/m.yaml" --json | grep -q "\"drift\":\"[^\"]*$side table '$table' no longer has column 'Composer'" ||
      fail "status on the drop ($side): $($SEGUE status "$d/m.yaml" --json)"
    sqlite3 -cmd '.timeout 60000' "$db" "ALTER TABLE $table ADD COLUMN Composer NVARCHAR(220)" || fail "restore the column ($side)"
    check "run after the column came back ($side)" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  done
  touch "$d/stop"; wait $WRITER || fail "the live writer failed"
  check "run after the writer stopped" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  check "verify --repair" $SEGUE verify "$d/m.yaml" --repair >/dev/null
  check "verify clean" $SEGUE verify "$d/m.yaml" >/dev/null
  [ "$(sqlite3 "$d/tgt.db" "SELECT Name FROM track_v2 WHERE TrackId = 30")" = "after drop" ] || fail "change lost"
}

# after the write cutover a target row the source cannot hold (its CHECK,
# which the created table lacks) is set aside; every other write still
# reaches the source; rollback refuses naming the key; once the row is

# in one file, into an existing table whose CHECK refuses some source rows:
# the backfill sets those keys aside (the in-engine INSERT ... SELECT of
# their chunk fails; each key of it is copied alone) and copies every other
# row under a live writer; verify fails meanwhile; fixed at the source, `retry`
# brings them over and verify is clean
test_a_row_the_target_refuses_in_the_backfill_is_set_aside() {
  local d; d=$(scratch); fresh_chinook "$d/src.db"
  sqlite3 "$d/src.db" "CREATE TABLE track_v2 (TrackId INTEGER PRIMARY KEY, Name TEXT NOT NULL,
      AlbumId INTEGER, MediaTypeId INTEGER NOT NULL, GenreId INTEGER, Composer TEXT,
      Milliseconds INTEGER NOT NULL CHECK (Milliseconds < 3000000), Bytes INTEGER, UnitPrice NUMERIC NOT NULL)" ||
    { fail "target table"; return; }
  printf 'version: 1\nname: bfaside\nsource: sqlite:%s\ntarget: sqlite:%s\nmappings:\n  - from: Track\n    to: track_v2\n    create: false\n' \
    "$d/src.db" "$d/src.db" > "$d/m.yaml"
  local long; long=$(sqlite3 "$d/src.db" "SELECT count(*) FROM Track WHERE Milliseconds >= 3000000")
  [ "$long" -gt 0 ] || { fail "Chinook has no track of 50 minutes"; return; }
  check "start" $SEGUE start "$d/m.yaml" >/dev/null
  live_writer "$d"
  local out
  out=$($SEGUE backfill "$d/m.yaml" 2>&1) || fail "the backfill stopped on a refused row: $out"
  echo "$out" | grep -q "warning: $long keys are set aside.*CHECK constraint failed" || fail "backfill's warning: $out"
  check "run" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  # reads wait out the writer's lock too (.timeout): a busy read would print nothing
  local missing; missing=$(sqlite3 -cmd '.timeout 60000' "$d/src.db" \
    "SELECT count(*) FROM Track WHERE TrackId NOT IN (SELECT TrackId FROM track_v2)")
  [ "$missing" = "$long" ] || fail "rows the target can hold were not copied: '$missing' missing, $long refused"
  $SEGUE status "$d/m.yaml" --json | grep -q "\"set_aside\":$long," || fail "status: $($SEGUE status "$d/m.yaml" --json)"
  $SEGUE verify "$d/m.yaml" >/dev/null 2>&1 && fail "verify passed with keys set aside"
  # fixed far below the limit: the live writer adds 1 to random tracks
  sqlite3 -cmd '.timeout 60000' "$d/src.db" "UPDATE Track SET Milliseconds = 2000000 WHERE Milliseconds >= 3000000" ||
    fail "fix the rows"
  check "retry" $SEGUE retry "$d/m.yaml" >/dev/null
  check "run after retry" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  touch "$d/stop"; wait $WRITER || fail "the live writer failed"
  check "drain" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  $SEGUE status "$d/m.yaml" --json | grep -q '"set_aside":0,' || fail "still set aside after retry"
  [ "$(sqlite3 "$d/src.db" "SELECT count(*) FROM (SELECT * FROM Track EXCEPT SELECT * FROM track_v2)")" = 0 ] ||
    fail "Track and track_v2 differ"
  check "verify" $SEGUE verify "$d/m.yaml" >/dev/null
}
# fixed, retry and rollback complete with every write in the source
test_a_row_the_source_refuses_is_set_aside() {
  local d; d=$(scratch)
  sqlite3 "$d/src.db" "PRAGMA journal_mode=WAL; CREATE TABLE items (id INTEGER PRIMARY KEY,
      qty INTEGER NOT NULL CHECK (qty >= 0), note TEXT);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
    INSERT INTO items SELECT i, i, 'n' || i FROM n;" >/dev/null || { fail "table"; return; }
  # a target without the source's CHECK (create: true would carry it)
  sqlite3 "$d/tgt.db" "PRAGMA journal_mode=WAL; CREATE TABLE items2 (id INTEGER PRIMARY KEY,
      qty INTEGER NOT NULL, note TEXT)" >/dev/null || { fail "target table"; return; }
  printf 'version: 1\nname: aside\nsource: sqlite:%s\ntarget: sqlite:%s\nmappings:\n  - from: items\n    to: items2\n' \
    "$d/src.db" "$d/tgt.db" > "$d/m.yaml"
  check "start" $SEGUE start "$d/m.yaml" >/dev/null
  check "run" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  check "verify" $SEGUE verify "$d/m.yaml" >/dev/null
  check "reads" with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --reads 100 >/dev/null
  check "writes" with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --writes >/dev/null
  sqlite3 "$d/tgt.db" "UPDATE items2 SET qty = -5 WHERE id = 7; UPDATE items2 SET note = 'ok 8' WHERE id = 8;
    INSERT INTO items2 VALUES (501, 1, 'new'); DELETE FROM items2 WHERE id = 9;
    UPDATE items2 SET note = 'ok 10' WHERE id = 10" || fail "target writes"
  local out
  out=$($SEGUE run "$d/m.yaml" --until caught-up 2>&1) || fail "the worker stopped on a refused row: $out"
  echo "$out" | grep -q "set aside: .*key (7).*CHECK constraint failed" || fail "no set-aside warning: $out"
  [ "$(sqlite3 "$d/src.db" "SELECT (SELECT note FROM items WHERE id = 8) || (SELECT note FROM items WHERE id = 10)
    || (SELECT count(*) FROM items WHERE id = 501) || (SELECT count(*) FROM items WHERE id = 9)")" = "ok 8ok 1010" ] ||
    fail "the other writes did not reach the source"
  $SEGUE status "$d/m.yaml" --json | grep -q '"set_aside":1,' || fail "status: $($SEGUE status "$d/m.yaml" --json)"
  out=$($SEGUE rollback "$d/m.yaml" 2>&1) && fail "rollback went on with a key set aside"
  echo "$out" | grep -q "cannot rollback: 1 key is set aside.*(7) in items" || fail "rollback's refusal: $out"
  out=$($SEGUE cleanup "$d/m.yaml" 2>&1) && fail "cleanup went on with a key set aside"
  sqlite3 "$d/tgt.db" "UPDATE items2 SET qty = 5 WHERE id = 7" || fail "fix the row"
  check "retry" $SEGUE retry "$d/m.yaml" >/dev/null
  check "run after retry" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  $SEGUE status "$d/m.yaml" --json | grep -q '"set_aside":0,' || fail "still set aside after retry"
  check "rollback" $SEGUE rollback "$d/m.yaml" >/dev/null
  [ "$(sqlite3 "$d/src.db" "SELECT qty FROM items WHERE id = 7")" = 5 ] || fail "the fixed row is not in the source"
  local n; n=$(sqlite3 "$d/src.db" "ATTACH '$d/tgt.db' AS t; SELECT
    (SELECT count(*) FROM (SELECT * FROM items EXCEPT SELECT * FROM t.items2)) +
    (SELECT count(*) FROM (SELECT * FROM t.items2 EXCEPT SELECT * FROM items))")
  [ "$n" = 0 ] || fail "source and target differ in $n rows after the rollback"
}

# reverse: none says on purpose there is no way back: plan warns instead of
# blocking, the write cutover asks for --no-rollback, rollback is refused
test_reverse_none_asks_for_no_rollback() {
  local d; d=$(scratch); fresh_chinook "$d/src.db"
  printf 'version: 1\nname: oneway\nsource: sqlite:%s\ntarget: sqlite:%s\nmappings:\n  - from: Customer\n    to: contacts\n    create: true\n    columns: {id: CustomerId, mail: Email}\n    reverse: none\n' \
    "$d/src.db" "$d/tgt.db" > "$d/m.yaml"
  local out; out=$($SEGUE plan "$d/m.yaml" 2>&1) || fail "plan blocked reverse: none: $out"
  echo "$out" | grep -q "reverse: none: after the write cutover there is no way back" || fail "plan: $out"
  check "start" $SEGUE start "$d/m.yaml" >/dev/null
  check "run" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  check "verify" $SEGUE verify "$d/m.yaml" >/dev/null
  check "reads" with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --reads 100 >/dev/null
  out=$(with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --writes 2>&1) && fail "writes switched with no way back: $out"
  echo "$out" | grep -q "says reverse: none.*--no-rollback" || fail "the refusal: $out"
  check "writes --no-rollback" with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --writes --no-rollback >/dev/null
  sqlite3 "$d/tgt.db" "INSERT INTO contacts VALUES (9001, 'new@example.org')" || fail "target write"
  check "run after the cutover" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  out=$($SEGUE rollback "$d/m.yaml" 2>&1) && fail "rollback with no way back: $out"
  echo "$out" | grep -q "cannot rollback: mapping Customer -> contacts says reverse: none" || fail "rollback's refusal: $out"
  check "cleanup" $SEGUE cleanup "$d/m.yaml" >/dev/null
}

# Track and track_v2 agree row for row (plain SQL, not segue's verify)
# after the write cutover, worker A is stopped once it committed a reverse
# change to the source, before it deletes that changelog entry on the
# target; B takes the lease over, applies and deletes the entry, and stops.
# The application writes again (a new entry); then A goes on. A must not
# delete the new entry (it has lost its lease, and an id is never reused):
# the last write reaches the source
test_stale_worker_deletes_no_newer_changelog_entry() {
  local d; d=$(scratch); fresh_chinook "$d/src.db"; spec_track "$d"
  printf 'worker:\n  lease_ttl: 1s\n' >> "$d/m.yaml"
  check "start" $SEGUE start "$d/m.yaml" >/dev/null
  check "run" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  check "verify" $SEGUE verify "$d/m.yaml" >/dev/null
  check "reads" with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --reads 100 >/dev/null
  check "writes" with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --writes >/dev/null
  sqlite3 "$d/tgt.db" "UPDATE track_v2 SET Name = 'first' WHERE TrackId = 1" || fail "target write"
  stopped_at "$d/m.yaml" apply:committed run "$d/a.log" || return
  local a=$STOPPED
  [ "$(sqlite3 "$d/src.db" "SELECT Name FROM Track WHERE TrackId = 1")" = first ] ||
    fail "worker A stopped before it committed the change"
  $SEGUE run "$d/m.yaml" --until caught-up --wait > "$d/b.log" 2>&1 || fail "worker B: $(cat "$d/b.log")"
  [ "$(sqlite3 "$d/tgt.db" "SELECT count(*) FROM _segue_rlog_e2e_0")" = 0 ] || fail "worker B left entries"
  sqlite3 "$d/tgt.db" "UPDATE track_v2 SET Name = 'second' WHERE TrackId = 2" || fail "target write"
  kill -CONT $a
  exited() { ! running $a; }
  wait_for "worker A stops" 30 exited || kill $a
  wait $a
  check "drain" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  [ "$(sqlite3 "$d/src.db" "SELECT Name FROM Track WHERE TrackId = 2")" = second ] ||
    fail "the application's write after worker B's drain never reached the source (worker A: $(tail -2 "$d/a.log"))"
}

same_tracks() { # when
  local n; n=$(sqlite3 "$D/src.db" "ATTACH '$D/tgt.db' AS t; SELECT
    (SELECT count(*) FROM (SELECT * FROM Track EXCEPT SELECT * FROM t.track_v2)) +
    (SELECT count(*) FROM (SELECT * FROM t.track_v2 EXCEPT SELECT * FROM Track))")
  [ "$n" = 0 ] || fail "$n rows differ $1: $(sqlite3 "$D/src.db" "ATTACH '$D/tgt.db' AS t;
    SELECT 'source', * FROM (SELECT * FROM Track EXCEPT SELECT * FROM t.track_v2) LIMIT 4;
    SELECT 'target', * FROM (SELECT * FROM t.track_v2 EXCEPT SELECT * FROM Track) LIMIT 4" | tr '\n' ' ')"
}

# two workers contend under a live writer while one of them (or a `verify
# --repair` beside them) is killed -9 or stopped past its lease at random,
# 25 times; then, after the write cutover, 25 times more with the writer on
# the target and the workers syncing back to the source. Each time source
# and target agree row for row afterwards
test_contending_workers_killed_and_stopped_at_random() {
  D=$(scratch); fresh_chinook "$D/src.db"; spec_track "$D"
  printf 'worker:\n  lease_ttl: 1s\n' >> "$D/m.yaml"
  check "start" $SEGUE start "$D/m.yaml" >/dev/null
  chaos_both_ways "$D/m.yaml" "live_writer $D" "live_writer $D $D/tgt.db track_v2" same_tracks
}

run_tests
