#!/usr/bin/env bash
# Safety on PostgreSQL: commands that race each other (one wins, the other
# is refused with the phase it found, and status, routing and triggers
# agree afterwards), made deterministic by stopping one inside its
# transaction at a named point (tests/tools/crashpoint) and waiting until
# the other waits on a lock: never by timing.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
. tests/lib/pg.sh
. tests/e2e/pg_lib.sh

# a fresh database with t (2000 rows), migrated within it to t_v2: started,
# caught up, verified, reads at 100 %; sets D (scratch dir holding m.yaml)
small_ready() { # database
  fresh_db "$1" || { fail "fresh database"; return 1; }
  psql -Xq -v ON_ERROR_STOP=1 "$DB_URI" -c "CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL);
    INSERT INTO t SELECT i, 'v' || i FROM generate_series(1, 2000) i" || { fail "table t"; return 1; }
  D=$(scratch)
  printf 'version: 1\nname: race\nsource: %s\ntarget: %s\nmappings:\n  - from: t\n    to: t_v2\n    create: true\n' \
    "$DB_URI" "$DB_URI" > "$D/m.yaml"
  check "start" $SEGUE start "$D/m.yaml" >/dev/null &&
    check "run" $SEGUE run "$D/m.yaml" --until caught-up >/dev/null &&
    check "verify" $SEGUE verify "$D/m.yaml" >/dev/null &&
    check "reads 100" with_worker "$D/m.yaml" $SEGUE cutover "$D/m.yaml" --reads 100 >/dev/null
}

# a segue session waits on a lock (the stopped command holds it)
segue_waits_on_a_lock() {
  [ "$(psql -Atq "$PG_URI" -c "SELECT count(*) FROM pg_stat_activity WHERE
    application_name = 'segue' AND wait_event_type = 'Lock'")" -ge 1 ]
}

# a write cutover (its gates passed by force: abort needs no worker running)
# stopped inside its fence; then `segue ARGS...` is started
# in the background and has to wait for it; then the cutover goes on.
# Sets A_RC and B_RC (exit codes), logs in $D/a.log and $D/b.log
race_with_fenced_cutover() { # segue-args...
  stopped_at "$D/m.yaml" cutover:fenced cutover "$D/a.log" --force || return 1
  local a=$STOPPED
  $SEGUE "$@" > "$D/b.log" 2>&1 &
  local b=$!
  wait_for "'segue $1' waits on the stopped cutover" 60 segue_waits_on_a_lock
  kill -CONT $a
  wait $a; A_RC=$?
  wait $b; B_RC=$?
}

test_pg_two_write_cutovers_one_wins() {
  small_ready race1 || return
  race_with_fenced_cutover cutover "$D/m.yaml" --writes --force --reason "race test"
  [ $A_RC = 0 ] || fail "the first cutover failed: $(cat "$D/a.log")"
  [ $B_RC != 0 ] || fail "both write cutovers reported success"
  grep -q "cannot cutover --writes: migration 'race' is writes_switched" "$D/b.log" ||
    fail "the second cutover's refusal: $(cat "$D/b.log")"
  [ "$(psql -Atq "$DB_URI" -c "SELECT count(*) FROM segue.audit WHERE action = 'cutover_writes'")" = 1 ] ||
    fail "two write cutovers in the audit log"
}

# abort behind a write cutover: refused once the cutover committed; the
# application's writes to the new table stay
test_pg_abort_behind_a_write_cutover_is_refused() {
  small_ready race2 || return
  race_with_fenced_cutover abort "$D/m.yaml"
  [ $A_RC = 0 ] || fail "the cutover failed: $(cat "$D/a.log")"
  [ $B_RC != 0 ] || fail "abort succeeded after the write cutover"
  grep -q "cannot abort: migration 'race' is writes_switched" "$D/b.log" ||
    fail "abort's refusal: $(cat "$D/b.log")"
  psql -Xq "$DB_URI" -c "INSERT INTO t_v2 VALUES (5001, 'after the cutover')" ||
    fail "the application cannot write to the new table"
  [ "$(psql -Atq "$DB_URI" -c "SELECT count(*) FROM t_v2 WHERE id = 5001")" = 1 ] ||
    fail "the write after the cutover is gone"
}

# rollback behind a write cutover: it rolls the write cutover back, and
# status, routing and the guards agree that the source takes writes
test_pg_rollback_behind_a_write_cutover_rolls_it_back() {
  small_ready race3 || return
  race_with_fenced_cutover rollback "$D/m.yaml"
  [ $A_RC = 0 ] || fail "the cutover failed: $(cat "$D/a.log")"
  [ $B_RC = 0 ] || fail "the rollback failed: $(cat "$D/b.log")"
  local st; st=$($SEGUE status "$D/m.yaml" --json)
  echo "$st" | grep -q '"write_side":"source"' || fail "status after the rollback: $st"
  echo "$st" | grep -q '"phase":"verified"' || fail "phase after the rollback: $st"
  psql -Xq "$DB_URI" -c "UPDATE t SET v = 'source again' WHERE id = 7" 2>/dev/null ||
    fail "the source refuses writes after the rollback said it takes them"
  psql -Xq "$DB_URI" -c "UPDATE t_v2 SET v = 'x' WHERE id = 7" 2>/dev/null &&
    fail "the new table takes writes after the rollback"
}

# 25 workers that all read the lease free before any takes it (each stopped
# at that point, then all let go at once): exactly one takes it, the others
# exit with "another worker" (exit 5) and the winner keeps running
contend() { # spec dir
  local pids=() i n
  for i in $(seq 25); do
    "$CRASHPOINT" --stop "$1" lease:read run > "$2/w$i.log" 2>&1 & pids+=($!)
  done
  all_read() { for i in "${pids[@]}"; do is_stopped $i || return 1; done; }
  wait_for "25 workers read the lease" 120 all_read
  for i in "${pids[@]}"; do kill -CONT $i; done
  alive() { n=0; for i in "${pids[@]}"; do kill -0 $i 2>/dev/null && n=$((n + 1)); done; [ $n -le 1 ]; }
  wait_for "24 of 25 workers to give way" 60 alive
  local won=0 busy=0 k
  for k in $(seq 25); do
    i=${pids[$((k - 1))]}
    if kill -0 $i 2>/dev/null; then won=$((won + 1)); kill $i; wait $i
    else wait $i; grep -q "another worker" "$2/w$k.log" && busy=$((busy + 1)); fi
  done
  [ $won = 1 ] && [ $busy = 24 ] || fail "$won workers kept the lease, $busy gave way: $(cat "$2"/w*.log | sort | uniq -c)"
}

test_pg_workers_started_at_once_one_wins() {
  small_ready race4 || return
  contend "$D/m.yaml" "$D"
}

# the way back is checked against the source's column types: start refuses
# a reverse expression giving text for an integer column, with the CAST that
# fixes it, and leaves nothing behind; with the cast it starts
test_pg_start_refuses_a_reverse_the_source_would_reject() {
  fresh_db revtype || { fail "fresh database"; return; }
  psql -Xq -v ON_ERROR_STOP=1 "$DB_URI" -c "CREATE TABLE t (id int PRIMARY KEY, qty int NOT NULL);
    INSERT INTO t SELECT i, i FROM generate_series(1, 100) i" || { fail "table t"; return; }
  D=$(scratch)
  printf 'version: 1\nname: revtype\nsource: %s\ntarget: %s\nmappings:\n  - from: t\n    to: t_v2\n    create: true\n    columns:\n      id: id\n      qty_text: "qty::text"\n    reverse:\n      qty: qty_text\n' \
    "$DB_URI" "$DB_URI" > "$D/m.yaml"
  local out; out=$($SEGUE start "$D/m.yaml" 2>&1) && fail "start went on with a way back the source refuses"
  echo "$out" | grep -q "m.yaml:13: the reverse expression of 'qty' (qty_text) gives text, which source column 'qty' (integer) refuses.*CAST((qty_text) AS integer)" ||
    fail "start's refusal: $out"
  [ "$(psql -Atq "$DB_URI" -c "SELECT to_regclass('t_v2') IS NULL")" = t ] || fail "the refused start left t_v2"
  sed -i 's/qty: qty_text/qty: "qty_text::integer"/' "$D/m.yaml"
  check "start with the cast" $SEGUE start "$D/m.yaml" >/dev/null
}

# in a small_ready database with a 1 s lease (and the worker settings
# given), key 7 changed on the source to value and worker A stopped at a
# test point; sets A to its pid
stopped_worker() { # database point value [worker-setting-lines]
  small_ready "$1" || return 1
  printf "worker:\n  lease_ttl: 1s\n${4:-}" >> "$D/m.yaml"
  psql -Xq "$DB_URI" -c "UPDATE t SET v = '$3' WHERE id = 7" || fail "source write"
  stopped_at "$D/m.yaml" "$2" run "$D/a.log" || return 1
  A=$STOPPED
}

# worker A is stopped inside its apply transaction, before it reads the
# changed row; its lease expires, B takes over and catches up, writes are
# cut over and the application updates the new table. A then goes on: it
# must not commit the old row over the application's write (it finds the
# lease lost inside its transaction, rolls back and stops)
test_pg_paused_worker_that_lost_its_lease_writes_nothing() {
  stopped_worker race5 apply:checked old || return
  local a=$A
  $SEGUE run "$D/m.yaml" --wait > "$D/b.log" 2>&1 &
  local b=$!
  took_over() { [ "$(psql -Atq "$DB_URI" -c "SELECT count(*) FROM segue.audit WHERE action = 'lease_takeover'")" -ge 1 ]; }
  wait_for "worker B takes the lease over" 60 took_over
  caught_up() { $SEGUE status "$D/m.yaml" --json | grep -q '"pending_changes":0,'; }
  wait_for "worker B catches up" 60 caught_up
  check "cutover --writes" $SEGUE cutover "$D/m.yaml" --writes >/dev/null
  psql -Xq "$DB_URI" -c "UPDATE t_v2 SET v = 'the application after the cutover' WHERE id = 7" ||
    fail "application write to the new table"
  kill -CONT $a
  exited() { ! kill -0 $a 2>/dev/null; }
  wait_for "worker A stops" 30 exited || kill $a
  wait $a && fail "worker A went on after losing its lease"
  grep -q "lost the worker lease" "$D/a.log" || fail "worker A's message: $(cat "$D/a.log")"
  [ "$(psql -Atq "$DB_URI" -c "SELECT v FROM t_v2 WHERE id = 7")" = "the application after the cutover" ] ||
    fail "worker A overwrote the application's write with a stale row"
  caught_up_rev() { $SEGUE status "$D/m.yaml" --json | grep -q '"pending_changes":0,'; }
  wait_for "worker B applies the reverse changes" 60 caught_up_rev
  kill $b; wait $b
  [ "$(psql -Atq "$DB_URI" -c "SELECT v FROM t WHERE id = 7")" = "the application after the cutover" ] ||
    fail "the application's write did not reach the source"
}

# a worker frozen inside its apply transaction, holding a row lock on the
# new table, loses its lease and, after worker.idle_timeout, its session:
# the server frees the lock, so worker B takes over and applies the same key
# (well within its deadline, where the 60 s default would hold it); A,
# thawed, finds its session gone and its lease taken and writes nothing
test_pg_frozen_worker_loses_its_session_and_its_locks() {
  stopped_worker frozen apply:synced frozen '  idle_timeout: 2s\n' || return
  local a=$A
  psql -Xq "$DB_URI" -c "UPDATE t SET v = 'after the freeze' WHERE id = 7" || fail "source write"
  timeout 30 $SEGUE run "$D/m.yaml" --until caught-up --wait > "$D/b.log" 2>&1 ||
    fail "worker B did not get past the frozen worker's lock: $(cat "$D/b.log")"
  [ "$(psql -Atq "$DB_URI" -c "SELECT v FROM t_v2 WHERE id = 7")" = "after the freeze" ] ||
    fail "worker B did not apply the change: $(cat "$D/b.log"; $SEGUE status "$D/m.yaml")"
  grep -q "idle-in-transaction timeout" "$PG_DIR/server.log" ||
    fail "the server did not end the frozen session for its idle transaction"
  kill -CONT $a
  exited() { ! kill -0 $a 2>/dev/null; }
  wait_for "worker A stops" 60 exited || kill $a
  wait $a && fail "worker A went on after losing its lease: $(cat "$D/a.log")"
  t_same "after the frozen worker came back"
}

# t (2000 rows) moved within a fresh database to t_v2; an application role
# with privileges on t only; sets D and APP (its URI)
app_role_setup() { # database
  fresh_db "$1" || { fail "fresh database"; return 1; }
  psql -Xq -v ON_ERROR_STOP=1 "$DB_URI" -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles
      WHERE rolname = 'appuser') THEN CREATE ROLE appuser LOGIN; END IF; END \$\$;
    CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL);
    INSERT INTO t SELECT i, 'v' || i FROM generate_series(1, 2000) i;
    GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON t TO appuser" >/dev/null || { fail "role and table"; return 1; }
  APP=${DB_URI/postgres@/appuser@}
  D=$(scratch)
  printf 'version: 1\nname: roles\nsource: %s\ntarget: %s\nmappings:\n  - from: t\n    to: t_v2\n    create: true\n' \
    "$DB_URI" "$DB_URI" > "$D/m.yaml"
}

# the same row set in t and t_v2 (EXCEPT both ways, plain SQL)
t_same() { # when
  local n; n=$(psql -Atq "$DB_URI" -c "SELECT (SELECT count(*) FROM (SELECT * FROM t EXCEPT SELECT * FROM t_v2) a)
    + (SELECT count(*) FROM (SELECT * FROM t_v2 EXCEPT SELECT * FROM t) b)")
  [ "$n" = 0 ] || fail "t and t_v2 differ in $n rows $1"
}

# an application role with table privileges only keeps writing through
# start (its writes are captured), reads and writes the new table after the
# cutover (it got t's grants), and its writes there reach the source on
# rollback; nobody can pass the guard or skip capture by setting the marker
test_pg_application_role_keeps_working() {
  app_role_setup roles || return
  check "start" $SEGUE start "$D/m.yaml" >/dev/null
  psql -Xq -v ON_ERROR_STOP=1 "$APP" -c "UPDATE t SET v = 'app' WHERE id = 1" -c "INSERT INTO t VALUES (3001, 'app')" \
    -c "DELETE FROM t WHERE id = 2" || fail "the application role cannot write after start"
  # the marker set by hand is not segue's: capture still sees the write
  psql -Xq "$APP" -c "BEGIN; SET LOCAL segue.applying = 'on'; UPDATE t SET v = 'sneaky' WHERE id = 3; COMMIT" ||
    fail "application write with the marker set by hand"
  check "run" $SEGUE run "$D/m.yaml" --until caught-up >/dev/null
  t_same "after the application role's writes"
  check "verify" $SEGUE verify "$D/m.yaml" >/dev/null
  psql -Xq "$APP" -c "SET segue.applying = 'on'" -c "UPDATE t_v2 SET v = 'past the guard' WHERE id = 4" 2>/dev/null &&
    fail "the marker set by hand passed the target's guard"
  check "reads 100" with_worker "$D/m.yaml" $SEGUE cutover "$D/m.yaml" --reads 100 >/dev/null
  [ "$(psql -Atq "$APP" -c "SELECT count(*) FROM t_v2")" = 2000 ] || fail "the application role cannot read t_v2"
  check "writes" with_worker "$D/m.yaml" $SEGUE cutover "$D/m.yaml" --writes >/dev/null
  psql -Xq -v ON_ERROR_STOP=1 "$APP" -c "UPDATE t_v2 SET v = 'app on target' WHERE id = 5" \
    -c "INSERT INTO t_v2 VALUES (3002, 'new')" || fail "the application role cannot write t_v2"
  check "rollback" $SEGUE rollback "$D/m.yaml" >/dev/null
  [ "$(psql -Atq "$DB_URI" -c "SELECT v FROM t WHERE id = 5")" = "app on target" ] || fail "a target write was lost"
  [ "$(psql -Atq "$DB_URI" -c "SELECT count(*) FROM t WHERE id = 3002")" = 1 ] || fail "a target insert was lost"
}

# TRUNCATE is captured: the target is emptied in order with the rest;
# after the write cutover a TRUNCATE of the new table reaches the source
# on rollback; writes under session_replication_role = replica are captured
test_pg_truncate_and_replica_writes_are_captured() {
  app_role_setup trunc || return
  check "start" $SEGUE start "$D/m.yaml" >/dev/null
  check "run" $SEGUE run "$D/m.yaml" --until caught-up >/dev/null
  psql -Xq -v ON_ERROR_STOP=1 "$APP" -c "TRUNCATE t" -c "INSERT INTO t VALUES (1, 'after truncate')" ||
    fail "truncate"
  psql -Xq -v ON_ERROR_STOP=1 "$DB_URI" -c "SET session_replication_role = replica;
    INSERT INTO t VALUES (2, 'replica'); UPDATE t SET v = 'replica too' WHERE id = 1" || fail "replica writes"
  check "run" $SEGUE run "$D/m.yaml" --until caught-up >/dev/null
  [ "$(psql -Atq "$DB_URI" -c "SELECT count(*) FROM t_v2")" = 2 ] ||
    fail "t_v2 holds $(psql -Atq "$DB_URI" -c "SELECT count(*) FROM t_v2") rows after TRUNCATE t and two writes"
  t_same "after TRUNCATE and replica writes"
  check "verify" $SEGUE verify "$D/m.yaml" >/dev/null
  psql -Xq "$DB_URI" -c "INSERT INTO t SELECT i, 'w' || i FROM generate_series(10, 1500) i" || fail "refill"
  check "reads 100" with_worker "$D/m.yaml" $SEGUE cutover "$D/m.yaml" --reads 100 >/dev/null
  check "writes" with_worker "$D/m.yaml" $SEGUE cutover "$D/m.yaml" --writes >/dev/null
  psql -Xq -v ON_ERROR_STOP=1 "$APP" -c "TRUNCATE t_v2" -c "INSERT INTO t_v2 VALUES (7, 'only row')" ||
    fail "truncate of the new table"
  check "rollback" $SEGUE rollback "$D/m.yaml" >/dev/null
  [ "$(psql -Atq "$DB_URI" -c "SELECT count(*) || ' ' || min(v) FROM t")" = "1 only row" ] ||
    fail "the source after a TRUNCATE of the new table and a rollback: $(psql -Atq "$DB_URI" -c "SELECT count(*) FROM t") rows"
}

# TRUNCATE ... CASCADE of a parent empties its child in the target too
test_pg_truncate_cascade_reaches_the_child() {
  fresh_db cascade || { fail "fresh database"; return; }
  psql -Xq -v ON_ERROR_STOP=1 "$DB_URI" -c "CREATE TABLE p (id int PRIMARY KEY);
    CREATE TABLE c (id int PRIMARY KEY, p int REFERENCES p);
    INSERT INTO p SELECT generate_series(1, 3000); INSERT INTO c SELECT i, i FROM generate_series(1, 3000) i" ||
    { fail "tables"; return; }
  D=$(scratch)
  printf 'version: 1\nname: casc\nsource: %s\ntarget: %s\nmappings:\n  - from: p\n    to: p2\n    create: true\n  - from: c\n    to: c2\n    create: true\n' \
    "$DB_URI" "$DB_URI" > "$D/m.yaml"
  check "start" $SEGUE start "$D/m.yaml" >/dev/null
  check "run" $SEGUE run "$D/m.yaml" --until caught-up >/dev/null
  psql -Xq -v ON_ERROR_STOP=1 "$DB_URI" -c "TRUNCATE p CASCADE" || fail "truncate cascade"
  check "run" $SEGUE run "$D/m.yaml" --until caught-up >/dev/null
  [ "$(psql -Atq "$DB_URI" -c "SELECT (SELECT count(*) FROM p2) + (SELECT count(*) FROM c2)")" = 0 ] ||
    fail "rows left in p2 and c2 after TRUNCATE p CASCADE"
  check "verify" $SEGUE verify "$D/m.yaml" >/dev/null
}

# the server ends the worker's sessions (as a restart or a failover
# would): the worker reconnects and goes on applying, instead of exiting
test_pg_worker_reconnects_after_a_lost_connection() {
  app_role_setup reconn || return
  check "start" $SEGUE start "$D/m.yaml" >/dev/null
  $SEGUE run "$D/m.yaml" > "$D/w.log" 2>&1 &
  local w=$!
  wait_for "the worker takes the lease" 60 worker_holds "$D/m.yaml"
  caught() { [ "$(psql -Atq "$DB_URI" -c "SELECT count(*) FROM t_v2")" = 2000 ]; }
  wait_for "the backfill" 60 caught
  psql -Atq "$DB_URI" -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
    WHERE application_name = 'segue' AND pid <> pg_backend_pid()" >/dev/null
  psql -Xq "$DB_URI" -c "UPDATE t SET v = 'after the lost connection' WHERE id = 9" || fail "source write"
  applied() { [ "$(psql -Atq "$DB_URI" -c "SELECT v FROM t_v2 WHERE id = 9")" = "after the lost connection" ]; }
  wait_for "the worker applies a change after its connection was lost" 60 applied
  kill -0 $w 2>/dev/null || fail "the worker exited: $(cat "$D/w.log")"
  grep -q "reconnecting" "$D/w.log" || fail "the worker did not say it reconnected: $(cat "$D/w.log")"
  kill $w; wait $w
}

# into an existing table (create: false) that the application role has no
# privileges on: plan blocks and start refuses, with the GRANT that fixes it
test_pg_start_refuses_a_target_the_application_role_cannot_use() {
  app_role_setup grants || return
  psql -Xq -v ON_ERROR_STOP=1 "$DB_URI" -c "CREATE TABLE t_v2 (id int PRIMARY KEY, v text NOT NULL)" ||
    { fail "target table"; return; }
  sed -i 's/create: true/create: false/' "$D/m.yaml"
  local out; out=$($SEGUE plan "$D/m.yaml" 2>&1)
  echo "$out" | grep -q "blocker: .*roles that use 't' would fail on 't_v2' after the cutover: appuser lacks DELETE, INSERT, SELECT, TRUNCATE, UPDATE on 't_v2'.*GRANT DELETE, INSERT, SELECT, TRUNCATE, UPDATE ON \"t_v2\" TO appuser;" ||
    fail "plan does not name the missing grants: $out"
  echo "$out" | grep -q "roles: appuser (DELETE, INSERT, SELECT, TRUNCATE, UPDATE): fails after the cutover: lacks .*; postgres (owner) (.*): keeps working" ||
    fail "plan does not list the roles: $out"
  out=$($SEGUE start "$D/m.yaml" 2>&1) && fail "start went on with a role that would lose its table"
  echo "$out" | grep -q "GRANT DELETE, INSERT, SELECT, TRUNCATE, UPDATE ON \"t_v2\" TO appuser;" || fail "start's refusal: $out"
  psql -Xq "$DB_URI" -c "GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON t_v2 TO appuser" || fail "grant"
  check "start once granted" $SEGUE start "$D/m.yaml" >/dev/null
}

# plan lists each role that uses the source table and whether it keeps
# working; an application that owns its table (segue runs as another role)
# keeps it: the created table gets the owner's privileges too
test_pg_plan_lists_the_roles_and_the_owner_keeps_its_table() {
  app_role_setup owner || return
  psql -Xq -v ON_ERROR_STOP=1 "$DB_URI" -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles
      WHERE rolname = 'appowner') THEN CREATE ROLE appowner LOGIN; END IF; END \$\$;
    GRANT CREATE ON SCHEMA public TO appowner; ALTER TABLE t OWNER TO appowner;
    GRANT SELECT ON t TO appuser" >/dev/null || { fail "owner"; return; }
  local out; out=$($SEGUE plan "$D/m.yaml" 2>&1) || fail "plan blocked: $out"
  echo "$out" | grep -q "roles: appowner (owner) (.*SELECT.*): keeps working (start gives the new table these grants); appuser (DELETE, INSERT, SELECT, TRUNCATE, UPDATE): keeps working" ||
    fail "plan does not list the roles: $out"
  check "start" $SEGUE start "$D/m.yaml" >/dev/null
  check "run" $SEGUE run "$D/m.yaml" --until caught-up >/dev/null
  psql -Xq -v ON_ERROR_STOP=1 "${DB_URI/postgres@/appowner@}" -c "SELECT count(*) FROM t_v2" >/dev/null ||
    fail "the owner of t cannot read t_v2"
  out=$($SEGUE plan "$D/m.yaml" 2>&1)
  echo "$out" | grep -q "roles: appowner (owner) (.*): keeps working; appuser (.*): keeps working" ||
    fail "plan after start: $out"
}

# the application role writes to `table` (inserts, updates, deletes) until
# $D/stop exists; sets WRITER
app_writer() { # table [key-offset]
  rm -f "$D/stop"
  (i=0; while [ ! -e "$D/stop" ]; do i=$((i + 1))
     psql -Xq -v ON_ERROR_STOP=1 "$APP" -c "UPDATE $1 SET v = 'u$i' WHERE id = $((RANDOM % 2000 + 1));
       INSERT INTO $1 VALUES ($((10000 + i + ${2:-0})), 'i$i'); DELETE FROM $1 WHERE id = $((RANDOM % 2000 + 1))" || exit 1
   done) &
  WRITER=$!
}

# the same on PostgreSQL: two workers contend while one of them (or a
# `verify --repair` beside them) is killed -9 or stopped past its lease at
# random, 25 times, under an application writer that inserts, updates and
# deletes; then 25 times more after the write cutover, with the writer on
# t_v2 and the workers syncing back to t. Each time t and t_v2 agree row for
# row afterwards
test_pg_contending_workers_killed_and_stopped_at_random() {
  app_role_setup chaos || return
  printf 'worker:\n  lease_ttl: 1s\n' >> "$D/m.yaml"
  check "start" $SEGUE start "$D/m.yaml" >/dev/null
  chaos_both_ways "$D/m.yaml" "app_writer t" "app_writer t_v2 100000" t_same
}

# the worker (W, logging to $D/worker.log) stops on its own after a schema
# change, naming it once, and status names it too; the change undone, a new
# worker catches up
drift_stops_once() { # what alter-sql message undo-sql
  psql -Xq -v ON_ERROR_STOP=1 "$DB_URI" -c "$2" >/dev/null || { fail "$1"; return 1; }
  wait_for "the worker stops on $1" 60 eval '! running $W' || { kill $W; wait $W; return 1; }
  wait $W && fail "the worker exited 0 after $1"
  [ "$(grep -c "schema drift" "$D/worker.log")" = 1 ] && grep -q "$3" "$D/worker.log" ||
    fail "the worker's message on $1: $(cat "$D/worker.log")"
  $SEGUE status "$D/m.yaml" --json | grep -q "\"drift\":\"[^\"]*$3" ||
    fail "status on $1: $($SEGUE status "$D/m.yaml" --json)"
  psql -Xq -v ON_ERROR_STOP=1 "$DB_URI" -c "$4" >/dev/null || fail "undo $1"
  $SEGUE run "$D/m.yaml" > "$D/worker.log" 2>&1 &
  W=$!
  wait_for "a worker catches up after $1 was undone" 60 worker_ready "$D/m.yaml"
}

# schema drift under a writer: a column added to the source is not copied
# (status says so) and the worker goes on; a mapped column retyped or
# dropped on either side stops the running worker once, naming the table,
# the column and what to do; with the column restored the migration
# converges and verifies clean (independent EXCEPT over the mapped columns)
test_pg_schema_drift_stops_the_worker_once() {
  fresh_db drift || { fail "fresh database"; return; }
  psql -Xq -v ON_ERROR_STOP=1 "$DB_URI" -c "CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL, w text);
    INSERT INTO t SELECT i, i, 'w' || i FROM generate_series(1, 2000) i" >/dev/null || { fail "table t"; return; }
  D=$(scratch)
  printf 'version: 1\nname: drift\nsource: %s\ntarget: %s\nmappings:\n  - from: t\n    to: t_v2\n    create: true\n' \
    "$DB_URI" "$DB_URI" > "$D/m.yaml"
  check "start" $SEGUE start "$D/m.yaml" >/dev/null
  (i=0; while [ ! -e "$D/stop" ]; do i=$((i + 1))
     psql -Xq -v ON_ERROR_STOP=1 "$DB_URI" -c "UPDATE t SET n = n + 1 WHERE id = $((RANDOM % 2000 + 1));
       INSERT INTO t (id, n) VALUES ($((10000 + i)), $i)" >/dev/null || exit 1
   done) &
  local writer=$!
  $SEGUE run "$D/m.yaml" > "$D/worker.log" 2>&1 &
  W=$!
  wait_for "the worker catches up" 120 worker_ready "$D/m.yaml"
  psql -Xq "$DB_URI" -c "ALTER TABLE t ADD COLUMN tier text DEFAULT 'gold'" || fail "add column"
  wait_for "the worker catches up after ADD COLUMN" 60 worker_ready "$D/m.yaml"
  running $W || fail "the worker stopped on ADD COLUMN: $(cat "$D/worker.log")"
  $SEGUE status "$D/m.yaml" --json | grep -q '"not_copied":"t.tier"' ||
    fail "status does not name the column not copied: $($SEGUE status "$D/m.yaml" --json)"
  drift_stops_once "a source retype" "ALTER TABLE t ALTER COLUMN n TYPE bigint" \
    "column 'n' of source table 't' is now bigint; it was integer at start" \
    "ALTER TABLE t ALTER COLUMN n TYPE integer"
  drift_stops_once "a target retype" "ALTER TABLE t_v2 ALTER COLUMN n TYPE text" \
    "column 'n' of target table 't_v2' is now text; it was integer at start" \
    "ALTER TABLE t_v2 ALTER COLUMN n TYPE integer USING n::integer"
  drift_stops_once "a target drop" "ALTER TABLE t_v2 DROP COLUMN w" \
    "target table 't_v2' no longer has column 'w'" "ALTER TABLE t_v2 ADD COLUMN w text"
  drift_stops_once "a source drop" "ALTER TABLE t DROP COLUMN w" \
    "source table 't' no longer has column 'w'" "ALTER TABLE t ADD COLUMN w text"
  touch "$D/stop"; wait $writer || fail "the writer failed"
  kill $W; wait $W
  check "drain" $SEGUE run "$D/m.yaml" --until caught-up >/dev/null
  check "verify --repair" $SEGUE verify "$D/m.yaml" --repair >/dev/null
  check "verify clean" $SEGUE verify "$D/m.yaml" >/dev/null
  local n; n=$(psql -Atq "$DB_URI" -c "SELECT (SELECT count(*) FROM (SELECT id, n, w FROM t EXCEPT SELECT id, n, w FROM t_v2) a)
    + (SELECT count(*) FROM (SELECT id, n, w FROM t_v2 EXCEPT SELECT id, n, w FROM t) b)")
  [ "$n" = 0 ] || fail "t and t_v2 differ in $n rows after the drift was undone"
}

run_tests
