#!/usr/bin/env bash
# End-to-end tests of `segue serve` on PostgreSQL: an application that is
# not C (Node, the OpenFeature SDK, node-postgres) follows a whole
# migration through OFREP alone, with no failed operation and no lost
# write; the control database stopped under load: the last routing is
# served for serve.max_staleness, then errors, never a wrong side.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
. tests/lib/pg.sh
. tests/e2e/pg_lib.sh
. tests/e2e/serve_lib.sh
. tests/e2e/rollout/hooks.sh

# a source database with accounts(id, balance, note) of ROWS rows and an
# empty target database; the spec moves accounts to accounts_v2
accounts_migration() { # dir name rows
  local d=$1 name=$2 src tgt
  fresh_db "${name}_t" || return 1
  tgt=$DB_URI
  fresh_db "${name}_s" || return 1
  src=$DB_URI
  psql -Xq -v ON_ERROR_STOP=1 "$src" -c "CREATE TABLE accounts (id int PRIMARY KEY,
      balance int NOT NULL, note text);
    INSERT INTO accounts SELECT g, g % 1000, 'seed' FROM generate_series(1, $3) g" ||
    return 1
  cat > "$d/m.yaml" <<YAML
version: 1
name: $name
source: $src
target: $tgt
mappings:
  - from: accounts
    to: accounts_v2
    create: true
backfill:
  chunk_time: 50ms
serve:
  refresh: 100ms
  max_staleness: 5s
YAML
  SRC_URI=$src TGT_URI=$tgt
}

# the app's stats field
app_stat() { # dir field
  sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p" "$1/stats.json" 2>/dev/null
}
app_target_writes_over() { # dir n
  local n; n=$(sed -n 's/.*"writes":{"source":[0-9]*,"target":\([0-9]*\)}.*/\1/p' "$1/stats.json" 2>/dev/null)
  [ "${n:-0}" -gt "$2" ]
}
# a cutover step, retried until its gates pass (the live app keeps a lag)
cutover_when_gates_pass() { # spec args...
  local spec=$1; shift
  wait_for "cutover $* passes its gates" 120 quietly $SEGUE cutover "$spec" "$@" --reason test
}
quietly() { "$@" > /dev/null 2>&1; }

# every write the app acknowledged is in the target as it left it, and the
# target holds no other change: seed rows it did not touch are unchanged
ledger_holds() { # dir rows
  local d=$1 bad
  psql -Xq "$TGT_URI" -c "CREATE TEMP TABLE l (id int, v text)" \
    -c "\\copy l FROM '$d/ledger' DELIMITER ' '" \
    -Atc "SELECT count(*) FROM l LEFT JOIN accounts_v2 a USING (id)
          WHERE (l.v = '-') <> (a.id IS NULL) OR (l.v <> '-' AND a.balance <> l.v::int)" \
    -Atc "SELECT count(*) FROM accounts_v2 a WHERE id <= $2
          AND id NOT IN (SELECT id FROM l) AND (balance <> id % 1000 OR note <> 'seed')" \
    -Atc "SELECT count(*) FROM accounts_v2 a WHERE id > $2 AND id NOT IN (SELECT id FROM l)" \
    > "$d/ledger.check" 2>&1
  bad=$(tr '\n' ' ' < "$d/ledger.check")
  [ "$bad" = "0 0 0 " ] || fail "target against the app's ledger (lost or wrong, seed rows changed, rows from nowhere): $bad"
}

copied_and_ready() { # spec
  $SEGUE status "$1" --json 2>/dev/null | grep -q '"backfill_complete":true' && worker_ready "$1"
}

# the app stops (having failed no operation), the worker too, the rest is
# drained: every write the app acknowledged is in the target
app_stops_having_lost_nothing() { # dir
  touch "$1/STOP"
  wait $APP_PID || fail "the app exited non-zero: $(tail -3 "$1/app.err")"
  [ "$(app_stat "$1" failed)" = 0 ] || fail "the app had failed operations: $(cat "$1/app.out")"
  kill $WORKER_PID; wait $WORKER_PID 2>/dev/null
  check "drain" quietly $SEGUE run "$1/m.yaml" --until caught-up
  ledger_holds "$1" 10000
}

# the worker copied and caught up, then a verify by hand; 1 (the app
# stopped, said) when either fails
copied_and_verified() { # dir
  wait_for "the worker copied and caught up" 120 copied_and_ready "$1/m.yaml" &&
    $SEGUE verify "$1/m.yaml" > "$1/verify.log" 2>&1 ||
    { app_test_abort "$1" "copy and verify: $(tail -3 "$1/verify.log")"; return 1; }
}

# a step of the app's migration failed: say where it stood, stop the rest
app_test_abort() { # dir what
  fail "$2; status: $($SEGUE status "$1/m.yaml" 2>&1 | tr -s ' \n' ' '); app: $(cat "$1/stats.json" 2>/dev/null)"
  touch "$1/STOP"
  kill "$APP_PID" "$WORKER_PID" 2>/dev/null; wait "$APP_PID" "$WORKER_PID" 2>/dev/null
  serve_stop
}

# serve DIR's migration NAME, start the app (before the migration: its
# flags say source, DISABLED), wait until it writes, then start the
# migration and a worker; sets APP_PID and WORKER_PID; 1 (said) on failure
app_then_migration() { # dir name
  serve_start "$1" "$1/m.yaml" --listen 127.0.0.1:0 || return 1
  node "$OFREP_DIR/app.mjs" "$SERVE_URL" "$2" "$SRC_URI" accounts "$TGT_URI" accounts_v2 \
    10000 "$1" > "$1/app.out" 2> "$1/app.err" &
  APP_PID=$! WORKER_PID=
  wait_for "the app writes" 30 test -s "$1/stats.json" || { app_test_abort "$1" "app"; return 1; }
  $SEGUE start "$1/m.yaml" >/dev/null || { app_test_abort "$1" "start"; return 1; }
  $SEGUE run "$1/m.yaml" > "$1/run.log" 2>&1 &
  WORKER_PID=$!
}

test_a_node_app_follows_a_whole_migration_through_ofrep() {
  ofrep_client_ready || return
  local d pct after; d=$(scratch)
  accounts_migration "$d" appmig 10000 || { fail "set-up"; return; }
  app_then_migration "$d" appmig || return
  copied_and_verified "$d" || return
  wait_for "a heartbeat lag under 2 s under the app's writes" 60 \
    heartbeat_lag_below "$d/m.yaml" 2000 || { app_test_abort "$d" "heartbeat"; return; }
  for pct in 10 50 100; do
    cutover_when_gates_pass "$d/m.yaml" --reads $pct || { app_test_abort "$d" "reads $pct"; return; }
  done
  cutover_when_gates_pass "$d/m.yaml" --writes || { app_test_abort "$d" "writes"; return; }
  wait_for "the app writes to the target" 60 app_target_writes_over "$d" 100 &&
    $SEGUE cleanup "$d/m.yaml" --reason test >/dev/null ||
    { app_test_abort "$d" "cleanup"; return; }
  after=$(sed -n 's/.*"target":\([0-9]*\)}.*/\1/p' "$d/stats.json")
  wait_for "the app writes to the target after cleanup" 60 app_target_writes_over "$d" $((after + 100))
  touch "$d/STOP"
  wait $APP_PID || fail "the app exited non-zero: $(tail -3 "$d/app.err")"
  wait $WORKER_PID 2>/dev/null || fail "the worker: $(tail -3 "$d/run.log")"
  [ "$(app_stat "$d" failed)" = 0 ] || fail "the app had failed operations: $(cat "$d/app.out")"
  [ "$(app_stat "$d" operations)" -gt 500 ] || fail "too few operations: $(cat "$d/app.out")"
  grep -q '"reads":{"source":[1-9][0-9]*,"target":[1-9]' "$d/stats.json" ||
    fail "the app did not read from both sides: $(cat "$d/stats.json")"
  ledger_holds "$d" 10000
  [ "$(psql -XAtc "SELECT count(*) FROM pg_class WHERE relname LIKE '\_segue\_hb%'" "$SRC_URI")" = 0 ] ||
    fail "cleanup left the heartbeat table on the source"
  serve_stop
}

# the rollout's mode and step in `segue gates --json`
rollout_at() { # spec mode step
  [ "$($SEGUE gates "$1" --json 2>/dev/null | jq -r '"\(.rollout.mode) \(.rollout.step)"')" = "$2 $3" ]
}

# the same Node app follows a migration whose reads walk 1, 10, 50, 100 %
# by themselves, gated on the app's own outcomes (its error rate and
# latency on the target, reported to serve's /api/v1/events) and the
# heartbeat; the writes move on command; 0 failed operations, no lost
# write, and the audit holds every evaluation that moved it
test_a_node_app_rides_an_automatic_rollout() {
  ofrep_client_ready || return
  local d; d=$(scratch)
  accounts_migration "$d" autoro 10000 || { fail "set-up"; return; }
  cat >> "$d/m.yaml" <<YAML
verify: {every: 2s}
cutover:
  auto: true
  reads:
    - {pct: 1, hold: 2s}
    - {pct: 10, hold: 2s}
    - {pct: 50, hold: 2s}
    - {pct: 100, hold: 2s}
gates:
  interval: 500ms
  failure_limit: 5
  checks:
    verify_clean: {within: 1m}
    lag: {max: 5s}
    heartbeat_lag: {max: 10s}
    error_rate: {side: target, max: 0.01, window: 1m, min_samples: 20}
    latency_ratio: {percentile: 99, max: 50, window: 1m, min_samples: 20}
YAML
  app_then_migration "$d" autoro || return
  # the background verify passes make it verified; the rollout walks from there
  wait_for "the rollout walked every step" 300 rollout_at "$d/m.yaml" done 4 ||
    { app_test_abort "$d" "rollout: $($SEGUE gates "$d/m.yaml" 2>&1 | head -8)"; return; }
  local steps; steps=$($SEGUE log "$d/m.yaml" --json | jq -r '[.[] | select(.action == "cutover_reads") | .detail] | join(";")')
  [ "$steps" = "reads to target 0% -> 1%;reads to target 1% -> 10%;reads to target 10% -> 50%;reads to target 50% -> 100%" ] ||
    fail "read steps: $steps"
  [ "$($SEGUE log "$d/m.yaml" --json | jq '[.[] | select(.action == "rollout_advance") |
        select(.detail | test("error_rate [0-9.e-]+/0.01 \\(pass\\); latency_ratio [0-9.e-]+/50 \\(pass\\)"))] | length')" -ge 3 ] ||
    fail "advances without the app's outcomes: $($SEGUE log "$d/m.yaml" | grep rollout_advance | tail -2)"
  cutover_when_gates_pass "$d/m.yaml" --writes || { app_test_abort "$d" "writes"; return; }
  wait_for "the app writes to the target" 60 app_target_writes_over "$d" 100 &&
    $SEGUE cleanup "$d/m.yaml" --reason test >/dev/null ||
    { app_test_abort "$d" "cleanup"; return; }
  touch "$d/STOP"
  wait $APP_PID || fail "the app exited non-zero: $(tail -3 "$d/app.err")"
  wait $WORKER_PID 2>/dev/null || fail "the worker: $(tail -3 "$d/run.log")"
  [ "$(app_stat "$d" failed)" = 0 ] || fail "the app had failed operations: $(cat "$d/app.out")"
  grep -q '"events_\(lost\|refused\)"' "$d/stats.json" && fail "outcomes not taken: $(cat "$d/stats.json")"
  ledger_holds "$d" 10000
  serve_stop
}

# a pg_sleep(50 ms) trigger on the target: every row segue applies is slow
slow_target() {
  psql -Xq -v ON_ERROR_STOP=1 "$TGT_URI" -c "CREATE FUNCTION slow() RETURNS trigger
      LANGUAGE plpgsql AS 'BEGIN PERFORM pg_sleep(0.05); RETURN NEW; END';
    CREATE TRIGGER slow BEFORE INSERT OR UPDATE ON accounts_v2 FOR EACH ROW EXECUTE FUNCTION slow()"
}

# the rollout's failing evaluations of one check at one step (0-based), as
# recorded in the target's control tables
failing_evals() { # check step since-ms
  psql -XAtc "SELECT count(*) FROM segue.gate_evals WHERE migration = 'slowro' AND
    name = '$1' AND step = $2 AND state = 1 AND at_ms >= $3" "$TGT_URI"
}

# a pg_sleep on the target while reads are at 10 %: a loop holds the target
# table's lock through pg_sleep(1), so every read of the target waits; the
# latency gate (the app's own p99, target over source) fails and the third
# failing evaluation in a row rolls the reads back; the webhook receiver
# and the command hook both get the page; once the loop ends the target
# catches up and no write is lost
sleepy_target() { # dir: until DIR/awake
  while [ ! -e "$1/awake" ]; do
    psql -Xq "$TGT_URI" -c "BEGIN; LOCK TABLE accounts_v2 IN ACCESS EXCLUSIVE MODE;
      SELECT pg_sleep(1); COMMIT" > /dev/null || return 1
  done
}
test_a_slowed_target_rolls_back_and_pages() {
  ofrep_client_ready || return
  local d sleeper; d=$(scratch); pager "$d"
  receiver "$d" || { fail "the webhook receiver did not start"; return; }
  accounts_migration "$d" slowro 10000 || { fail "set-up"; return; }
  # one verify, by hand: a background pass racing the slowed apply would
  # find its lag and move the migration back to backfilled
  cat >> "$d/m.yaml" <<YAML
cutover:
  auto: true
  reads:
    - {pct: 1, hold: 1s}
    - {pct: 10, hold: 1h}
    - {pct: 100, hold: 1s}
gates:
  interval: 500ms
  failure_limit: 3
  checks:
    lag: {max: 30s}
    latency_ratio: {percentile: 99, max: 50, window: 1m, min_samples: 20}
$(hooks_yaml "$d" "$HOOK_URL")
YAML
  app_then_migration "$d" slowro || { kill $RECEIVER; return; }
  copied_and_verified "$d" || { kill $RECEIVER; return; }
  wait_for "step 2 (10 %)" 300 rollout_at "$d/m.yaml" walking 2 ||
    { app_test_abort "$d" "rollout: $($SEGUE gates "$d/m.yaml" 2>&1 | head -8)"; kill $RECEIVER; return; }
  local slowed; slowed=$(date +%s%3N)
  sleepy_target "$d" & sleeper=$!
  wait_for "the rollback" 120 rollout_at "$d/m.yaml" rolled_back 0 ||
    { touch "$d/awake"; app_test_abort "$d" "no rollback: $($SEGUE gates "$d/m.yaml" 2>&1 | head -8)"; kill $RECEIVER; return; }
  touch "$d/awake"; wait $sleeper || fail "the sleeping loop failed"
  [ "$($SEGUE status "$d/m.yaml" --json | jq -r '"\(.phase) \(.read_pct)"')" = "verified 0" ] ||
    fail "after the rollback: $($SEGUE status "$d/m.yaml" --json | jq -c '[.phase, .read_pct]')"
  # (a latency spike before the sleep does not count)
  [ "$(failing_evals latency_ratio 1 "$slowed")" = 3 ] ||
    fail "$(failing_evals latency_ratio 1 "$slowed") failing latency evaluations at 10 % before the rollback"
  pages_arrived "$d" slowro rollback 10 "latency_ratio failed 3"
  app_stops_having_lost_nothing "$d"
  kill $RECEIVER; wait $RECEIVER 2>/dev/null
  serve_stop
}

# the rollback drill on PostgreSQL under the Node app's routed writes:
# reads and writes go to the target and back by the automatic rollback;
# the drill times it (worker, C API router, OFREP ETag), its ledger loses
# nothing, verify finds nothing; the app fails no operation, and every
# write it acknowledged is in the target (its own ledger)
test_a_drill_on_postgres_under_the_app_loses_no_write() {
  ofrep_client_ready || return
  local d out; d=$(scratch)
  accounts_migration "$d" drillro 10000 || { fail "set-up"; return; }
  cat >> "$d/m.yaml" <<YAML
cutover:
  auto: true
  reads:
    - {pct: 10, hold: 1s}
    - {pct: 100, hold: 1s}
gates:
  interval: 500ms
  failure_limit: 3
  checks:
    lag: {max: 5s}
YAML
  app_then_migration "$d" drillro || return
  $SEGUE pause "$d/m.yaml" > /dev/null || { app_test_abort "$d" "pause"; return; }
  copied_and_verified "$d" || return
  out=$($SEGUE drill "$d/m.yaml" --writes --ofrep "$SERVE_URL" --json 2> "$d/drill.err")
  [ $? = 0 ] || fail "drill: $out $(tail -3 "$d/drill.err")"
  echo "$out" | jq -e '.outcome == "passed" and .writes_lost == 0 and .differences == 0 and
      .writes_on_target > 0 and .to_rollback_ms >= 0 and .to_router_ms >= 0 and
      .to_ofrep_ms >= 0 and .fence_ms >= 0 and .column == "accounts.note"' > /dev/null ||
    fail "drill report: $out"
  [ "$($SEGUE status "$d/m.yaml" --json | jq -r '"\(.read_pct) \(.write_side)"')" = "0 source" ] ||
    fail "routing after the drill: $($SEGUE status "$d/m.yaml" --json | jq -c '[.read_pct, .write_side]')"
  app_stops_having_lost_nothing "$d"
  serve_stop
}

# where `segue route` (the C API) sends key K's reads
route_is() { # spec key side
  [ "$($SEGUE route "$1" "$2" --json 2>/dev/null | jq -r .read)" = "$3" ]
}
# OFREP's answer for key K: "value readBreakerOpen"
served_read() { # name key
  ofrep_post "/ofrep/v1/evaluate/flags/segue.$1.reads" "{\"context\":{\"targetingKey\":\"$2\"}}" |
    head -1 | jq -r '"\(.value) \(.metadata.readBreakerOpen)"'
}
serves_read() { [ "$(served_read "$1" "$2")" = "$3" ]; }
breaker_gauge() { # name value
  curl -s "$SERVE_URL/metrics" | grep -qx "segue_read_breaker_open{migration=\"$1\"} $2"
}

# cutover.max_read_lag: with reads at 50 %, a pg_sleep trigger slows the
# apply until its lag passes 1 s: the read breaker opens and every router
# (the C API's, OFREP) sends a key that read the target to the source
# (audited, in /metrics); once the trigger is gone and the apply caught up
# it closes and the key reads the target again. A worker that stops
# deciding (SIGSTOP) opens it too, after max_read_lag + 5 s
test_a_lagging_apply_opens_the_read_breaker() {
  local d key w writer; d=$(scratch)
  accounts_migration "$d" breakro 2000 || { fail "set-up"; return; }
  printf 'cutover:\n  max_read_lag: 1s\n' >> "$d/m.yaml"
  serve_start "$d" "$d/m.yaml" --listen 127.0.0.1:0 || return
  $SEGUE start "$d/m.yaml" > /dev/null || { fail "start"; serve_stop; return; }
  $SEGUE run "$d/m.yaml" > "$d/run.log" 2>&1 & w=$!
  wait_for "copied and caught up" 120 copied_and_ready "$d/m.yaml" &&
    quietly $SEGUE verify "$d/m.yaml" && quietly $SEGUE cutover "$d/m.yaml" --reads 50 ||
    { fail "verify and reads 50: $(tail -3 "$d/run.log")"; kill $w; serve_stop; return; }
  for key in $(seq 1 100); do route_is "$d/m.yaml" "$key" target && break; done
  wait_for "OFREP routes key $key to the target" 30 serves_read breakro "$key" "true false"
  slow_target || fail "the slow trigger"
  (while [ ! -e "$d/stop" ]; do
     psql -Xq "$SRC_URI" -c "UPDATE accounts SET balance = balance + 1 WHERE id = 1 + (random() * 1999)::int" || exit 1
   done) & writer=$!
  wait_for "the breaker opens: the C API sends key $key to the source" 120 route_is "$d/m.yaml" "$key" source
  wait_for "OFREP sends it to the source" 30 serves_read breakro "$key" "false true"
  wait_for "the gauge says open" 30 breaker_gauge breakro 1
  $SEGUE log "$d/m.yaml" | grep -q "read_breaker_open .*lag [0-9]* ms > cutover.max_read_lag 1000 ms" ||
    fail "audit: $($SEGUE log "$d/m.yaml" | tail -3)"
  psql -Xq "$TGT_URI" -c "DROP TRIGGER slow ON accounts_v2" || fail "drop the trigger"
  touch "$d/stop"; wait $writer || fail "the writer failed"
  wait_for "the breaker closes: key $key reads the target" 120 route_is "$d/m.yaml" "$key" target
  wait_for "OFREP too" 30 serves_read breakro "$key" "true false"
  wait_for "the gauge says closed" 30 breaker_gauge breakro 0
  $SEGUE log "$d/m.yaml" | grep -q "read_breaker_close" || fail "no read_breaker_close in the audit"
  kill -STOP $w
  wait_for "a worker that decides nothing opens it" 60 route_is "$d/m.yaml" "$key" source
  kill -CONT $w
  wait_for "and it closes once the worker decides again" 60 route_is "$d/m.yaml" "$key" target
  kill $w; wait $w 2>/dev/null
  serve_stop
}

# md5 of accounts in database URI, table T, in key order
accounts_md5() { # uri table
  psql -XAtq "$1" -c "SELECT md5(string_agg(a::text, ',' ORDER BY id)) FROM $2 a"
}

# read-your-writes per key on PostgreSQL, as an application role: with
# every read on the target and the apply slowed (pg_sleep per row), an
# application writing rows and reading each back at once through the C
# API's router (sg_router_read_side_row) always reads its own write, its
# role reading the source's changelog (granted at start); a statement that
# changed 1000 rows (a statement entry) sends every read of the table to
# the source until it is applied; afterwards the target equals the source
test_a_row_read_after_its_write_sees_the_write_on_postgres() {
  local d out w; d=$(scratch)
  accounts_migration "$d" rywpg 2000 || { fail "set-up"; return; }
  printf 'cutover:\n  read_your_writes: true\n' >> "$d/m.yaml"
  psql -Xq -v ON_ERROR_STOP=1 "$SRC_URI" -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT 1 FROM
      pg_roles WHERE rolname = 'rywapp') THEN CREATE ROLE rywapp LOGIN; END IF; END \$\$;
    GRANT SELECT, UPDATE ON accounts TO rywapp" || { fail "the application role"; return; }
  local app_src=${SRC_URI/postgres@/rywapp@} app_tgt=${TGT_URI/postgres@/rywapp@}
  sed "s|^source: .*|source: $app_src|; s|^target: .*|target: $app_tgt|" "$d/m.yaml" > "$d/app.yaml"
  $SEGUE start "$d/m.yaml" > /dev/null || { fail "start"; return; }
  $SEGUE run "$d/m.yaml" > "$d/run.log" 2>&1 & w=$!
  wait_for "copied and caught up" 120 copied_and_ready "$d/m.yaml" &&
    quietly $SEGUE verify "$d/m.yaml" && quietly $SEGUE cutover "$d/m.yaml" --reads 100 ||
    { fail "verify and reads 100: $(tail -3 "$d/run.log")"; kill $w; return; }
  slow_target || fail "the slow trigger"
  out=$("$TOOLS/ryw_check" "$d/app.yaml" "$app_src" accounts "$app_tgt" accounts_v2 id note \
          200 600 2>&1)
  echo "$out" | tail -1 | jq -e '.reads >= 600 and .stale == 0' >/dev/null ||
    fail "reads after writes as the application's role: $out"
  echo "    (read-your-writes, target slowed: $(echo "$out" | tail -1))"
  psql -Xq "$SRC_URI" -c "UPDATE accounts SET balance = balance + 1 WHERE id BETWEEN 1001 AND 2000" ||
    fail "the 1000-row statement"
  [ "$($SEGUE route "$d/app.yaml" user-1 --row accounts=500 --json | jq -r .read)" = source ] ||
    fail "a row beside a pending statement entry: $($SEGUE route "$d/app.yaml" user-1 --row accounts=500 2>&1)"
  psql -Xq "$TGT_URI" -c "DROP TRIGGER slow ON accounts_v2" || fail "drop the trigger"
  wait_for "the entry applied: row 500 reads the target" 120 \
    eval '[ "$($SEGUE route "$d/app.yaml" user-1 --row accounts=500 --json | jq -r .read)" = target ]'
  kill $w; wait $w 2>/dev/null
  check "drain" quietly $SEGUE run "$d/m.yaml" --until caught-up
  [ "$(accounts_md5 "$SRC_URI" accounts)" = "$(accounts_md5 "$TGT_URI" accounts_v2)" ] ||
    fail "the target differs from the source after the drain"
}

# the answers of a loop of evaluations: "start-ms code value" per line, until
# DIR/STOP_LOAD exists
evaluation_load() { # dir
  local i=0 t out
  while [ ! -e "$1/STOP_LOAD" ]; do
    i=$(( (i + 1) % 50 ))
    t=$(date +%s%3N)
    out=$(ofrep_post /ofrep/v1/evaluate/flags/segue.stale.reads \
            "{\"context\":{\"targetingKey\":\"key-$i\"}}" --max-time 5 | tr -d '\n')
    echo "$t key-$i ${out: -3} $(echo "$out" | sed -n 's/.*"value":\([a-z]*\).*/\1/p;
                                                    s/.*"errorCode":"\([A-Z_]*\)".*/\1/p')"
  done
}

answered_ok_after() { # answers ms
  awk -v t="$2" '$1 > t && $3 == 200 { ok = 1 } END { exit !ok }' "$1"
}

test_serve_answers_the_last_routing_while_the_control_db_is_stopped() {
  local d load t_stop t_resume; d=$(scratch)
  accounts_migration "$d" stale 1000 || { fail "set-up"; return; }
  started_caught_up "$d/m.yaml"
  check "verify" $SEGUE verify "$d/m.yaml" >/dev/null 2>&1
  check "cutover" $SEGUE cutover "$d/m.yaml" --reads 40 --force --reason test >/dev/null 2>&1
  seq 0 49 | sed 's/^/key-/' > "$d/keys"
  $SEGUE route "$d/m.yaml" --keys "$d/keys" |
    sed -n 's/^key \(.*\) (bucket [0-9]*): read from \([a-z]*\),.*/\1 \2/p' > "$d/expected"
  serve_start "$d" "$d/m.yaml" --listen 127.0.0.1:0 || return
  evaluation_load "$d" > "$d/answers" &
  load=$!
  wait_for "answers under load" 30 test -s "$d/answers"
  t_stop=$(date +%s%3N)
  pg_halt || { fail "the server did not stop"; return; }
  sleep 10   # the outage under test: the control database is down for 10 s
  curl -s -o /dev/null -w '%{http_code}' "$SERVE_URL/healthz" > "$d/healthz.down"
  t_resume=$(date +%s%3N)
  pg_resume || { fail "the server did not start again"; return; }
  wait_for "answers right again" 60 answered_ok_after "$d/answers" "$t_resume"
  touch "$d/STOP_LOAD"; wait $load
  # no wrong side ever; served from the last routing within the staleness
  # limit (5 s, with 1.5 s to spare); errors past it until the restart
  local wrong early_err late_ok n_early n_late
  wrong=$(awk 'NR == FNR { want[$1] = ($2 == "target") ? "true" : "false"; next }
               $3 == 200 && $4 != want[$2]' "$d/expected" "$d/answers" | head -3)
  [ -z "$wrong" ] || fail "a wrong side was answered: $wrong"
  early_err=$(awk -v a=$t_stop -v b=$((t_stop + 3500)) '$1 >= a && $1 <= b && $3 != 200' "$d/answers" | head -3)
  n_early=$(awk -v a=$t_stop -v b=$((t_stop + 3500)) '$1 >= a && $1 <= b' "$d/answers" | wc -l)
  [ -z "$early_err" ] && [ "$n_early" -gt 0 ] ||
    fail "within the staleness limit ($n_early answers): $early_err"
  late_ok=$(awk -v a=$((t_stop + 6500)) -v b=$t_resume '$1 >= a && $1 < b && !($3 == 500 && $4 == "GENERAL")' "$d/answers" | head -3)
  n_late=$(awk -v a=$((t_stop + 6500)) -v b=$t_resume '$1 >= a && $1 < b' "$d/answers" | wc -l)
  [ -z "$late_ok" ] && [ "$n_late" -gt 0 ] ||
    fail "past the staleness limit, not GENERAL errors ($n_late answers): $late_ok"
  [ "$(cat "$d/healthz.down")" = 503 ] || fail "healthz while stale: $(cat "$d/healthz.down")"
  running "$SERVE_PID" || fail "segue serve is gone"
  serve_stop
}

run_tests
