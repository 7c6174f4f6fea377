#!/usr/bin/env bash
# End-to-end tests of the segue program against real SQLite files.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

# examples/specs/same-database.yaml, between the given files
spec_chinook() { # dir source target
  example_spec same-database "$1/m.yaml" "sqlite:$2" "sqlite:$3"
}

# mapping(source) EXCEPT target and back, in plain SQL (not segue's verify)
independent_diff() { # srcdb tgtdb
  sqlite3 "$1" "ATTACH '$2' AS t;
    SELECT (SELECT count(*) FROM (SELECT CustomerId, FirstName, LastName, lower(Email), Country FROM Customer
              EXCEPT SELECT * FROM t.customer_v2))
         + (SELECT count(*) FROM (SELECT * FROM t.customer_v2
              EXCEPT SELECT CustomerId, FirstName, LastName, lower(Email), Country FROM Customer))
         + (SELECT count(*) FROM (SELECT * FROM Track EXCEPT SELECT * FROM t.track_v2))
         + (SELECT count(*) FROM (SELECT * FROM t.track_v2 EXCEPT SELECT * FROM Track))
         + (SELECT count(*) FROM (SELECT * FROM PlaylistTrack EXCEPT SELECT * FROM t.playlist_track_v2))
         + (SELECT count(*) FROM (SELECT * FROM t.playlist_track_v2 EXCEPT SELECT * FROM PlaylistTrack))"
}

writes() { # db n base : a burst of inserts, updates, deletes and key changes
  for i in $(seq 1 "$2"); do
    echo "INSERT INTO Track (TrackId, Name, MediaTypeId, Milliseconds, UnitPrice) VALUES ($((${3:-900000} + i)), 'w$i', 1, 1, 0.99);
          UPDATE Track SET Name = 'upd $i' WHERE TrackId = $((i * 7 % 3000 + 1));
          DELETE FROM PlaylistTrack WHERE rowid = (SELECT rowid FROM PlaylistTrack LIMIT 1 OFFSET $i);
          UPDATE Customer SET Email = 'K$i@X.ORG' WHERE CustomerId = $((i % 50 + 1));
          UPDATE Track SET TrackId = $((${3:-900000} - 100000 + i)) WHERE TrackId = $((3000 - i - ${3:-900000} % 7));"
  done | sqlite3 -cmd '.timeout 60000' "$1"
}

test_demo() {
  local out
  out=$($SEGUE demo --json --rate 300) || fail "demo exited $?"
  echo "$out" | grep -q '"independent_differences":0' || fail "demo independent check: $out"
  echo "$out" | grep -q '"verify_differences":0' || fail "demo verify: $out"
  echo "$out" | grep -q '"writes_failed":0' || fail "demo writer failures: $out"
  echo "$out" | jq -r .rollout_moved_by | grep -q "lag [0-9.e-]*/2 (pass); .*(gates [0-9a-f]\{16\})$" ||
    fail "the demo's rollout: $(echo "$out" | jq -r .rollout_moved_by)"
  # the writer's reads shadowed before the read cutover (the gate asks for
  # 200): none differs but for changes in flight
  [ "$(echo "$out" | jq '.shadow.compared >= 200 and .shadow.mismatches == 0 and .shadow.errors == 0')" = true ] ||
    fail "demo shadow reads: $(echo "$out" | jq -c .shadow)"
  # the writer followed the cutover through OFREP, not the C API
  [ "$(echo "$out" | jq '.ofrep_evaluations > 0')" = true ] ||
    fail "the demo writer asked OFREP nothing: $out"
  # the rollback drill before the rollout: reads and writes went to the
  # target and back by the worker's rollback, timed, nothing lost
  [ "$(echo "$out" | jq '.drill.outcome == "passed" and .drill.writes_lost == 0 and
      .drill.writes_on_target > 0 and .drill.to_rollback_ms >= 0 and .drill.to_ofrep_ms >= 0')" = true ] ||
    fail "the demo's drill: $(echo "$out" | jq -c .drill)"
  # its heartbeat arrived while reads shifted
  [ "$(echo "$out" | jq '.heartbeat_lag_ms >= 0')" = true ] || fail "no heartbeat in the demo: $out"
}

writes_flag_done() { # url
  curl -s -X POST -d '{}' "$1/ofrep/v1/evaluate/flags/segue.chinook-demo.writes" |
    grep -q '"value":"target","reason":"DISABLED"'
}
# --hold keeps the dashboard and OFREP up after the report, until a signal
fence_counted() { # url: the demo's write cutovers (the drill's and the last)
  # and the drill's rollback are in the fence histograms
  local m; m=$(curl -s "$1/metrics")
  echo "$m" | grep -qx 'segue_write_fence_seconds_count{migration="chinook-demo",direction="to_target"} 2' &&
    echo "$m" | grep -qx 'segue_write_fence_seconds_count{migration="chinook-demo",direction="to_source"} 1'
}
test_demo_holds_the_dashboard() {
  local d pid url rc; d=$(scratch)
  $SEGUE demo --hold --listen 127.0.0.1:0 --rate 300 > "$d/out" 2>&1 &
  pid=$!
  wait_for "the demo holds" 120 grep -q "^demo: holding" "$d/out" || { kill $pid; return; }
  url=$(sed -n 's/^demo: holding: the dashboard stays at \(http:[^ ]*\)\/ until.*/\1/p' "$d/out")
  curl -s "$url/" | grep -q 'data-migration="chinook-demo"' || fail "no dashboard at $url/"
  # within serve.refresh of the cleanup, the flags give the final side
  wait_for "the writes flag says the move is complete" 30 writes_flag_done "$url"
  wait_for "the write fence in /metrics" 30 fence_counted "$url"
  kill -INT $pid; wait $pid; rc=$?
  [ $rc = 0 ] || fail "the held demo exited $rc on SIGINT: $(tail -3 "$d/out")"
}

playbook() { # same|two
  local d; d=$(scratch); fresh_chinook "$d/src.db"
  local tgt="$d/tgt.db"; [ "$1" = same ] && tgt="$d/src.db"
  spec_chinook "$d" "$d/src.db" "$tgt"
  check "start" $SEGUE start "$d/m.yaml" >/dev/null
  writes "$d/src.db" 40 &
  local wpid=$!
  check "backfill" $SEGUE backfill "$d/m.yaml" >/dev/null
  wait $wpid
  writes "$d/src.db" 20 950000
  check "run --until caught-up" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  check "verify" $SEGUE verify "$d/m.yaml" >/dev/null
  [ "$(independent_diff "$d/src.db" "$tgt")" = 0 ] || fail "independent diff ($1 file)"
  local st; st=$($SEGUE status "$d/m.yaml" --json)
  echo "$st" | grep -q '"phase":"verified"' || fail "status after verify: $st"
  echo "$st" | grep -q '"pending_changes":0' || fail "pending after caught-up: $st"
  echo "$d"
}
test_playbook_two_files() { playbook two >/dev/null; }
test_playbook_same_file() { playbook same >/dev/null; }

test_cutover_rollback() {
  local d; d=$(playbook two | tail -1)
  check "reads 100" with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --reads 100 \
    --reason "step one" --actor ops@test >/dev/null
  with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --writes >/dev/null || fail "cutover --writes"
  local err; err=$(sqlite3 "$d/src.db" "UPDATE Track SET Name='x' WHERE TrackId=9" 2>&1)
  echo "$err" | grep -q "migration 'chinook-v2'" || fail "old side accepted a write: $err"
  sqlite3 "$d/tgt.db" "UPDATE track_v2 SET Name='after cutover' WHERE TrackId=9;
    INSERT INTO track_v2 (TrackId, Name, MediaTypeId, Milliseconds, UnitPrice) VALUES (777777, 'new', 1, 1, 1);
    DELETE FROM track_v2 WHERE TrackId = 10;
    UPDATE customer_v2 SET email = 'moved@x.org' WHERE customer_id = 2" || fail "target write"
  check "rollback" $SEGUE rollback "$d/m.yaml" >/dev/null
  [ "$(sqlite3 "$d/src.db" "SELECT Name FROM Track WHERE TrackId=9")" = "after cutover" ] || fail "update lost"
  [ "$(sqlite3 "$d/src.db" "SELECT count(*) FROM Track WHERE TrackId=777777")" = 1 ] || fail "insert lost"
  [ "$(sqlite3 "$d/src.db" "SELECT count(*) FROM Track WHERE TrackId=10")" = 0 ] || fail "delete lost"
  [ "$(sqlite3 "$d/src.db" "SELECT Email FROM Customer WHERE CustomerId=2")" = "moved@x.org" ] || fail "reverse expr"
  sqlite3 "$d/src.db" "UPDATE Track SET Name='back on source' WHERE TrackId=11" || fail "source write after rollback"
  check "run after rollback" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  check "verify after rollback" $SEGUE verify "$d/m.yaml" >/dev/null
  audit_trail "$d/m.yaml"
}

# segue log shows every step in order, who took it and why; --since filters
audit_trail() { # spec
  local j; j=$($SEGUE log "$1" --json) || fail "log --json failed"
  local acts; acts=$(echo "$j" | jq -r '[.[].action] | join(",")')
  case "$acts" in start,backfill,*verify*rollback*verify) ;; *) fail "audit actions: $acts" ;; esac
  [ "$(echo "$j" | jq -r '.[] | select(.reason == "step one") | .who')" = ops@test ] \
    || fail "reason and actor of the reads step: $j"
  $SEGUE log "$1" | grep -q "verified -> .*(reason: step one)" || fail "log text: $($SEGUE log "$1")"
  [ "$($SEGUE log "$1" --since 1h --json)" = "$j" ] || fail "--since 1h dropped entries"
  [ "$($SEGUE log "$1" --since 2999-01-01 --json)" = "[]" ] || fail "--since the future"
  $SEGUE log "$1" --since yesterday >/dev/null 2>&1; [ $? = 2 ] || fail "bad --since not exit 2"
}

# kill -9 between the two commits of a write cutover and of a rollback: the
# next command finishes the switch, nothing applied twice, nothing lost
test_crash_between_switch_commits() {
  local crash=${CRASHPOINT:-$(dirname "$SEGUE")/tools/crashpoint}
  local d; d=$(playbook two | tail -1)
  check "reads 100" with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --reads 100 \
    --reason "step one" --actor ops@test >/dev/null
  sqlite3 "$d/src.db" "UPDATE Track SET Name = 'before cutover' WHERE TrackId = 30"
  # no worker may finish the switch before the late write: gates passed by hand
  $crash --force "$d/m.yaml" cutover:between-commits cutover 2>/dev/null
  [ $? = 137 ] || fail "crashpoint did not stop the cutover between its commits"
  # decided on the target: writes go there; one late write still lands on the source
  sqlite3 "$d/tgt.db" "UPDATE track_v2 SET Name = 'target after cutover' WHERE TrackId = 30;
    INSERT INTO track_v2 (TrackId, Name, MediaTypeId, Milliseconds, UnitPrice) VALUES (888888, 't', 1, 1, 1)" ||
    fail "target write after the decided cutover"
  sqlite3 "$d/src.db" "UPDATE Track SET Name = 'late source write' WHERE TrackId = 20" ||
    fail "late source write"
  check "run finishes the cutover" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  [ "$(sqlite3 "$d/tgt.db" "SELECT Name FROM track_v2 WHERE TrackId = 30")" = "target after cutover" ] ||
    fail "an entry applied before the crash was applied again over a newer target write"
  [ "$(sqlite3 "$d/tgt.db" "SELECT Name FROM track_v2 WHERE TrackId = 20")" = "late source write" ] ||
    fail "the late source write was lost"
  sqlite3 "$d/src.db" "UPDATE Track SET Name = 'x' WHERE TrackId = 9" 2>&1 | grep -q "migration 'chinook-v2'" ||
    fail "the source takes writes after the finished cutover"
  [ "$(sqlite3 "$d/tgt.db" "SELECT count(*) FROM _segue_switches")" = 0 ] || fail "switch record left"

  sqlite3 "$d/tgt.db" "INSERT INTO track_v2 (TrackId, Name, MediaTypeId, Milliseconds, UnitPrice)
    VALUES (888889, 'just before the rollback', 1, 1, 1)" || fail "target write before the rollback"
  $crash "$d/m.yaml" rollback:between-commits rollback 2>/dev/null
  [ $? = 137 ] || fail "crashpoint did not stop the rollback between its commits"
  sqlite3 "$d/tgt.db" "UPDATE track_v2 SET Name = 'y' WHERE TrackId = 9" 2>/dev/null &&
    fail "the target takes writes after the decided rollback"
  check "status finishes nothing" $SEGUE status "$d/m.yaml" >/dev/null
  check "verify finishes the rollback" $SEGUE verify "$d/m.yaml" >/dev/null
  [ "$(sqlite3 "$d/src.db" "SELECT count(*) FROM Track WHERE TrackId IN (888888, 888889)")" = 2 ] ||
    fail "a target write was lost by the interrupted rollback"
  [ "$(sqlite3 "$d/src.db" "SELECT Name FROM Track WHERE TrackId = 30")" = "target after cutover" ] ||
    fail "target update lost by the interrupted rollback"
  sqlite3 "$d/src.db" "UPDATE Track SET Name = 'source again' WHERE TrackId = 9" ||
    fail "the source refuses writes after the finished rollback"
  check "run after rollback" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  [ "$(independent_diff "$d/src.db" "$d/tgt.db")" = 0 ] || fail "independent diff after the crashes"
}

test_verify_fails_and_repairs() {
  local d; d=$(playbook two | tail -1)
  # the guard rejects writes to the target not made by segue: inject the way
  # segue writes, with its marker row inside the transaction
  as_segue "$d/tgt.db" "UPDATE track_v2 SET Name = Name || '!' WHERE TrackId = 3;
    DELETE FROM track_v2 WHERE TrackId = 4;
    INSERT INTO track_v2 (TrackId, Name, MediaTypeId, Milliseconds, UnitPrice) VALUES (5555555, 'extra', 1, 1, 1);
    UPDATE track_v2 SET Composer = '' WHERE TrackId = 63;
    UPDATE customer_v2 SET email = CAST(email AS BLOB) WHERE customer_id = 6;
    UPDATE customer_v2 SET email = '' WHERE customer_id = 7;
    UPDATE customer_v2 SET email = upper(email) WHERE customer_id = 8" || fail "inject"
  local out rc
  out=$($SEGUE verify "$d/m.yaml" --json 2>/dev/null); rc=$?
  [ $rc = 3 ] || fail "verify exit $rc, wanted 3"
  for k in '"key":"(3)","kind":"different"' '"key":"(4)","kind":"missing"' \
           '"key":"(5555555)","kind":"extra"' '"key":"(63)"' '"key":"(6)"' '"key":"(7)"' '"key":"(8)"'; do
    echo "$out" | grep -qF "$k" || fail "verify did not name $k: $out"
  done
  [ "$(echo "$out" | grep -o '"key"' | wc -l)" = 7 ] || fail "verify named other keys: $out"
  # what differs, not only where: the column and both values
  [ "$(echo "$out" | jq -c '.differences[] | select(.key == "(63)") | .columns')" = \
    '[{"column":"Composer","source":"NULL","target":"'"''"'"}]' ] ||
    fail "the columns of (63): $(echo "$out" | jq -c '.differences[] | select(.key == "(63)")')"
  out=$($SEGUE verify "$d/m.yaml" 2>/dev/null)
  echo "$out" | grep -qxF "  - Composer = NULL" && echo "$out" | grep -qxF "  + Composer = ''" ||
    fail "no - and + rows for (63): $out"
  # 150 more: the list stops at --max-keys (default 100), the count does not
  as_segue "$d/tgt.db" "UPDATE track_v2 SET Name = '!' WHERE TrackId BETWEEN 1000 AND 1149" || fail "inject 150"
  out=$($SEGUE verify "$d/m.yaml" 2>/dev/null)
  [ "$(echo "$out" | grep -c ': different$\|: missing$\|: extra$')" = 100 ] || fail "not 100 keys listed: $out"
  echo "$out" | grep -q "and 57 more differing keys" || fail "no count of the rest: $out"
  echo "$out" | grep -q ": 157 differences" || fail "summary count: $out"
  out=$($SEGUE verify "$d/m.yaml" --max-keys 3 --json 2>/dev/null)
  [ "$(echo "$out" | jq '.differences | length'),$(echo "$out" | jq .difference_count)" = 3,157 ] ||
    fail "--max-keys 3: $out"
  check "repair" $SEGUE verify "$d/m.yaml" --repair >/dev/null
  check "clean after repair" $SEGUE verify "$d/m.yaml" >/dev/null
  local runs; runs=$(sqlite3 "$d/tgt.db" "SELECT group_concat(differences, ',') FROM
    (SELECT differences FROM _segue_verify_runs WHERE migration = 'chinook-v2' ORDER BY id)")
  case $runs in 0,7,7,157,157,*0) ;; *) fail "verify_runs rows: $runs" ;; esac
  [ "$(independent_diff "$d/src.db" "$d/tgt.db")" = 0 ] || fail "independent diff after repair"
}

phase_of() { $SEGUE status "$1" --json | jq -r .phase; }
# verify --sample: random keys compared field by field. A clean sample does
# not make a backfilled migration verified (it proves nothing about the
# keys not drawn); with half of Track's target rows changed, a sample of 50
# (all but certain to draw some: 2^-50 not to) names only changed keys,
# with the column and both values, and the differences count as any
# verify's: exit 3, recorded as a partial pass.
test_verify_sample_compares_random_keys() {
  local d out; d=$(scratch); fresh_chinook "$d/src.db"
  spec_chinook "$d" "$d/src.db" "$d/tgt.db"
  started_caught_up "$d/m.yaml"
  out=$($SEGUE verify "$d/m.yaml" --sample 30 --json) || fail "clean sample exited $?: $out"
  [ "$(echo "$out" | jq -c '[.sample, .clean, .source_rows, .target_rows]')" = '[true,true,90,90]' ] ||
    fail "clean sample: $out"
  [ "$(phase_of "$d/m.yaml")" = backfilled ] || fail "a sample made the migration $(phase_of "$d/m.yaml")"
  as_segue "$d/tgt.db" "UPDATE track_v2 SET Name = 'X' WHERE TrackId % 2 = 0"
  out=$($SEGUE verify "$d/m.yaml" --sample 50 --json); local rc=$?
  [ $rc = 3 ] || fail "sample with differences exited $rc"
  local keys; keys=$(echo "$out" | jq -r '.differences[] | select(.mapping == "Track -> track_v2") | .key')
  [ -n "$keys" ] || fail "the sample found no difference: $out"
  [ -z "$(echo "$keys" | tr -d '()' | awk '$1 % 2 != 0')" ] || fail "keys not changed: $keys"
  [ "$(echo "$out" | jq -c '[.differences[].columns[] | [.column, .target]] | unique')" = '[["Name","'"'"'X'"'"'"]]' ] ||
    fail "the columns: $(echo "$out" | jq -c '.differences[0]')"
  [ "$(sqlite3 "$d/tgt.db" "SELECT group_concat(full_pass) FROM _segue_verify_mappings")" = "0,0,0,0,0,0" ] ||
    fail "sample passes not recorded as partial: $(sqlite3 "$d/tgt.db" "SELECT * FROM _segue_verify_mappings")"
  out=$($SEGUE verify "$d/m.yaml" 2>/dev/null)
  echo "$out" | grep -q ": 1751 differences" || fail "the full pass: $(echo "$out" | tail -1)"
}

test_kill_and_resume() {
  local d; d=$(scratch)
  sqlite3 "$d/src.db" "PRAGMA journal_mode=WAL; CREATE TABLE big (id INTEGER PRIMARY KEY, a TEXT NOT NULL, b REAL);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000)
    INSERT INTO big SELECT i, 'row ' || i, i * 0.5 FROM n;" >/dev/null
  cat > "$d/m.yaml" <<YAML
version: 1
name: big
source: sqlite:$d/src.db
target: sqlite:$d/tgt.db
mappings:
  - from: big
    to: big2
    create: true
backfill:
  chunk_time: 20ms
  max_rows_per_second: 150000
YAML
  check "start" $SEGUE start "$d/m.yaml" >/dev/null
  local moments="" pid delay mut="UPDATE big SET a = a || '+' WHERE id % 997 = 0;
    DELETE FROM big WHERE id % 1999 = 0; UPDATE big SET id = id + 1000000 WHERE id % 4999 = 0"
  for cmd in backfill backfill backfill run run run; do
    delay=0.$((RANDOM % 6 + 1)); moments="$moments $cmd@${delay}s"
    $SEGUE $cmd "$d/m.yaml" >/dev/null 2>&1 &
    pid=$!
    sqlite3 -cmd '.timeout 60000' "$d/src.db" "$mut"
    sleep "$delay"; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
  done
  check "resume" $SEGUE run "$d/m.yaml" --until caught-up --wait >/dev/null
  local diff; diff=$(sqlite3 "$d/src.db" "ATTACH '$d/tgt.db' AS t;
    SELECT (SELECT count(*) FROM (SELECT * FROM big EXCEPT SELECT * FROM t.big2))
         + (SELECT count(*) FROM (SELECT * FROM t.big2 EXCEPT SELECT * FROM big))
         + (SELECT count(*) FROM big) - (SELECT count(*) FROM t.big2)")
  [ "$diff" = 0 ] || fail "after kill -9 at$moments: $diff differences"
  check "verify" $SEGUE verify "$d/m.yaml" >/dev/null
}

test_bad_specs_change_nothing() {
  local d; d=$(scratch); fresh_chinook "$d/src.db"
  sqlite3 "$d/src.db" "CREATE TABLE wide (id INTEGER PRIMARY KEY, $(seq -f 'c%g' 300 | paste -sd,))"
  local before; before=$(md5sum "$d/src.db" | cut -d' ' -f1)
  local cases=(
    "from: wide|to: x|:6: 'wide' -> 'x' would move 301 columns; at most 256"
    "from: Nope|to: x|:6: source table 'Nope' does not exist"
    "from: Customer|to: x|columns: {a: CustomerId, b: no_such_col + 1}|:8: the source rejects the expression of column 'b'"
    "from: Customer|to: x|key: [Country]|:8: key column 'Country' of 'Customer' may be NULL"
    "from: Customer|to: x|key: [FirstName]|:8: the key of 'Customer' is not unique"
    "from: Customer|to: x|columns: {email: Email}|:8: key column 'CustomerId' is not mapped"
    "from: Customer|to: x|where: \"nope(\"|:8: the source rejects the filter"
    "from: Customer|to: customer|:7: target table 'customer' is the source table"
    "from: Customer|to: x|create: false|:7: target table 'x' does not exist"
    "from: Customer|to: x|create: true|indexes: [{columns: [Email], uniqe: true}]|:9: unknown key 'uniqe' in an index"
    "from: Customer|to: x|create: true|indexes: 5|:9: indexes must be a list"
    "from: Customer|to: x|indexes: [[Email]]|:8: indexes: segue builds indexes only on the tables it makes"
    "from: Customer|to: x|foreign_keys: true|:8: foreign_keys: segue makes foreign keys only on the tables it makes"
  )
  for c in "${cases[@]}"; do
    IFS='|' read -r -a parts <<<"$c"
    local want=${parts[${#parts[@]}-1]}
    { echo "version: 1"; echo "name: bad"; echo "source: sqlite:$d/src.db"; echo "target: sqlite:$d/src.db"
      echo "mappings:"; echo "  - ${parts[0]}"
      for ((i = 1; i < ${#parts[@]} - 1; i++)); do echo "    ${parts[$i]}"; done; } > "$d/bad.yaml"
    local err rc; err=$($SEGUE start "$d/bad.yaml" 2>&1); rc=$?
    [ $rc = 2 ] || fail "exit $rc for: $c"
    echo "$err" | grep -qF "bad.yaml$want" || fail "message for [$c]: $err"
  done
  [ "$(md5sum "$d/src.db" | cut -d' ' -f1)" = "$before" ] || fail "database changed by a bad spec"
}

# plan, status and route write nothing: no target file appears before start,
# no byte of either file changes after it; plan counts through the filter and
# finds no blocker in what start made itself.
test_read_only_commands() {
  local d; d=$(scratch); fresh_chinook "$d/src.db"
  cat > "$d/m.yaml" <<YAML
version: 1
name: ro
source: sqlite:$d/src.db
target: sqlite:$d/tgt.db
mappings:
  - from: Track
    to: track_v2
    create: true
    where: "GenreId = 1"
YAML
  local want; want=$(sqlite3 "$d/src.db" "SELECT count(*) FROM Track WHERE GenreId = 1")
  snapshot() { (cd "$d" && ls && sha256sum ./*.db); }
  local before; before=$(snapshot)
  local rows; rows=$($SEGUE plan "$d/m.yaml" --json | jq '.mappings[0].source_rows') || fail "plan failed"
  [ "$rows" = "$want" ] || fail "plan counted $rows rows, the filter keeps $want"
  $SEGUE status "$d/m.yaml" >/dev/null || fail "status before start failed"
  $SEGUE route "$d/m.yaml" 5 >/dev/null 2>&1
  [ "$(snapshot)" = "$before" ] || fail "a read-only command changed the files: $(ls "$d")"
  $SEGUE start "$d/m.yaml" >/dev/null || fail "start failed"
  before=$(snapshot)
  local out; out=$($SEGUE plan "$d/m.yaml" --json) || fail "plan after start exited $?: $out"
  [ "$(echo "$out" | jq '.blockers | length')" = 0 ] || fail "plan after start: $out"
  $SEGUE status "$d/m.yaml" >/dev/null || fail "status failed"
  $SEGUE route "$d/m.yaml" 5 >/dev/null || fail "route failed"
  [ "$(snapshot)" = "$before" ] || fail "a read-only command changed the files after start"
}

# the README's quick start, pasted literally (with this build's segue and
# this machine's Chinook), runs to the end
test_lease() {
  local d; d=$(playbook two | tail -1)
  $SEGUE run "$d/m.yaml" >/dev/null 2>&1 &
  local pid=$!; sleep 0.5
  $SEGUE run "$d/m.yaml" >/dev/null 2>&1; local rc=$?
  [ $rc = 5 ] || fail "second worker exit $rc, wanted 5 (busy)"
  kill -9 $pid; wait $pid 2>/dev/null
  check "takeover after kill -9" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
}

# INSERT/UPDATE OR REPLACE that displace a row through another uniqueness
# constraint fire no delete trigger; capture must still log the displaced key
test_replace_displacing_a_row() {
  local d; d=$(scratch)
  sqlite3 "$d/src.db" "PRAGMA journal_mode=WAL;
    CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
    INSERT INTO users SELECT i, 'u' || i || '@x', 'n' || i FROM n;
    CREATE UNIQUE INDEX users_lower_name ON users (lower(name));
    CREATE TABLE users2 (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT);
    INSERT INTO users2 SELECT * FROM users;" >/dev/null
  cat > "$d/m.yaml" <<YAML
version: 1
name: repl
source: sqlite:$d/src.db
target: sqlite:$d/tgt.db
mappings:
  - from: users
    to: users_by_id
    create: true
  - from: users2
    to: users_by_email
    key: [email]
    create: true
YAML
  check "start" $SEGUE start "$d/m.yaml" >/dev/null
  check "backfill" $SEGUE backfill "$d/m.yaml" >/dev/null
  local t
  for t in users users2; do
    sqlite3 "$d/src.db" "INSERT OR REPLACE INTO $t VALUES (1000, 'u1@x', 'took u1 email');
      UPDATE OR REPLACE $t SET email = 'u2@x' WHERE id = 3;
      INSERT OR REPLACE INTO $t VALUES (4, 'fresh@x', 'same id, new email');
      REPLACE INTO $t VALUES (5, 'u6@x', 'both');" || fail "replace statements on $t"
  done
  check "run" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  check "verify" $SEGUE verify "$d/m.yaml" >/dev/null
  local n; n=$(sqlite3 "$d/src.db" "ATTACH '$d/tgt.db' AS t;
    SELECT (SELECT count(*) FROM (SELECT * FROM users EXCEPT SELECT * FROM t.users_by_id))
         + (SELECT count(*) FROM (SELECT * FROM t.users_by_id EXCEPT SELECT * FROM users))
         + (SELECT count(*) FROM (SELECT * FROM users2 EXCEPT SELECT * FROM t.users_by_email))
         + (SELECT count(*) FROM (SELECT * FROM t.users_by_email EXCEPT SELECT * FROM users2))")
  [ "$n" = 0 ] || fail "rows displaced by REPLACE left behind in the target: $n"
}

# create: true carries the source's secondary indexes to the new table,
# renamed through the mapping, built after the backfill while a writer
# writes; one on a column the mapping transforms is named, not carried, and
# one given by hand under indexes: is built with them
test_created_target_gets_the_source_indexes() {
  local d; d=$(scratch); fresh_chinook "$d/c.db"
  sqlite3 "$d/c.db" "CREATE INDEX ix_track_long ON Track (Composer) WHERE Milliseconds > 300000;
    CREATE INDEX ix_track_lname ON Track (lower(Name), Milliseconds DESC) WHERE Bytes > 0"
  cat > "$d/m.yaml" <<YAML
version: 1
name: ix
source: sqlite:$d/c.db
target: sqlite:$d/c.db
mappings:
  - from: Track
    to: tracks
    create: true
    columns: {track_id: TrackId, name: Name, album_id: AlbumId, media_type_id: MediaTypeId,
              genre_id: GenreId, composer: upper(Composer), ms: Milliseconds, bytes: Bytes,
              price: UnitPrice}
    indexes: [{columns: [composer, ms DESC], where: "ms > 300000"}]
backfill:
  chunk_time: 20ms
YAML
  local plan; plan=$($SEGUE plan "$d/m.yaml") || fail "plan"
  echo "$plan" | grep -qF 'CREATE INDEX IF NOT EXISTS "IFK_tracksAlbumId" ON "tracks" ("album_id");  -- after the backfill' ||
    fail "plan lacks the album index: $plan"
  echo "$plan" | grep -qF '"ix_tracks_lname" ON "tracks" ((lower("name")), "ms" DESC) WHERE "bytes" > 0' ||
    fail "plan lacks the expression index: $plan"
  echo "$plan" | grep -q "index ix_track_long is not carried to tracks: column Composer is not copied as it is" ||
    fail "plan does not name the index it cannot carry: $plan"
  echo "$plan" | grep -qF 'CREATE INDEX IF NOT EXISTS "tracks_composer_msDESC_idx" ON "tracks" ("composer", "ms" DESC) WHERE ms > 300000;' ||
    fail "plan lacks the index given by hand: $plan"
  check "start" $SEGUE start "$d/m.yaml" >/dev/null
  [ "$(sqlite3 "$d/c.db" "SELECT count(*) FROM pragma_index_list('tracks') WHERE origin = 'c'")" = 0 ] ||
    fail "indexes made before the backfill"
  writes "$d/c.db" 150 & local w=$!
  $SEGUE backfill "$d/m.yaml" > /dev/null 2> "$d/backfill.err" || fail "backfill: $(cat "$d/backfill.err")"
  wait $w || fail "the writer failed"
  grep -q "index IFK_tracksGenreId on tracks built in [0-9.]* s" "$d/backfill.err" ||
    fail "no build time shown: $(cat "$d/backfill.err")"
  check "run --until caught-up" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  check "verify" $SEGUE verify "$d/m.yaml" >/dev/null
  local cols; cols=$(sqlite3 "$d/c.db" "SELECT group_concat(l.name || '(' || (SELECT group_concat(coalesce(x.name, 'expr'))
      FROM pragma_index_xinfo(l.name) x WHERE x.key) || ')', ' ') FROM (SELECT name FROM pragma_index_list('tracks')
      WHERE origin = 'c' ORDER BY name) l")
  [ "$cols" = "IFK_tracksAlbumId(album_id) IFK_tracksGenreId(genre_id) IFK_tracksMediaTypeId(media_type_id) ix_tracks_lname(expr,ms) tracks_composer_msDESC_idx(composer,ms)" ] ||
    fail "target indexes: $cols"
  # a transformed column gets the type of what its expression gives
  [ "$(sqlite3 "$d/c.db" "SELECT type FROM pragma_table_info('tracks') WHERE name = 'composer'")" = TEXT ] ||
    fail "upper(Composer) left untyped: $(sqlite3 "$d/c.db" "SELECT sql FROM sqlite_schema WHERE name = 'tracks'")"
  # the same plan shape on both sides: an index search
  local a b
  a=$(sqlite3 "$d/c.db" "EXPLAIN QUERY PLAN SELECT * FROM Track WHERE AlbumId = 3" | grep -o "SEARCH [A-Za-z]* USING INDEX")
  b=$(sqlite3 "$d/c.db" "EXPLAIN QUERY PLAN SELECT * FROM tracks WHERE album_id = 3" | grep -o "SEARCH [A-Za-z]* USING INDEX")
  [ "$a" = "SEARCH Track USING INDEX" ] && [ "$b" = "SEARCH tracks USING INDEX" ] || fail "query plans: '$a' / '$b'"
  b=$(sqlite3 "$d/c.db" "EXPLAIN QUERY PLAN SELECT * FROM tracks WHERE lower(name) = 'x' AND bytes > 0")
  echo "$b" | grep -q "USING INDEX ix_tracks_lname" || fail "expression index unused: $b"
  [ "$(sqlite3 "$d/c.db" "SELECT (SELECT count(*) FROM (SELECT TrackId, Name, AlbumId, MediaTypeId, GenreId, upper(Composer),
      Milliseconds, Bytes, UnitPrice FROM Track EXCEPT SELECT * FROM tracks))
      + (SELECT count(*) FROM (SELECT * FROM tracks EXCEPT SELECT TrackId, Name, AlbumId, MediaTypeId, GenreId,
      upper(Composer), Milliseconds, Bytes, UnitPrice FROM Track))")" = 0 ] || fail "independent EXCEPT differs"
}

# invoice spec: the listed Chinook tables into tgt.db, created
invoice_spec() { # dir tables...
  local d=$1 t; shift
  { printf 'version: 1\nname: inv\nsource: sqlite:%s/src.db\ntarget: sqlite:%s/tgt.db\nmappings:\n' "$d" "$d"
    for t in "$@"; do printf '  - from: %s\n    to: %s_v2\n    create: true\n' "$t" "$t"; done; } > "$d/m.yaml"
}

# start to writes switched with a writer on the source during the backfill
to_writes_switched() { # dir
  check "start" $SEGUE start "$1/m.yaml" >/dev/null
  sqlite3 -cmd '.timeout 60000' "$1/src.db" "UPDATE Invoice SET Total = Total + 1 WHERE InvoiceId % 7 = 0;
    UPDATE InvoiceLine SET Quantity = Quantity + 1 WHERE InvoiceLineId % 5 = 0" & local w=$!
  check "backfill" $SEGUE backfill "$1/m.yaml" >/dev/null 2>&1
  wait $w || fail "the writer failed"
  check "run" $SEGUE run "$1/m.yaml" --until caught-up >/dev/null
  check "verify" $SEGUE verify "$1/m.yaml" >/dev/null
  check "reads 100" with_worker "$1/m.yaml" $SEGUE cutover "$1/m.yaml" --reads 100 >/dev/null
  check "writes" with_worker "$1/m.yaml" $SEGUE cutover "$1/m.yaml" --writes >/dev/null 2>&1
}

# cleanup --drop-source refuses while another table's foreign key points
# at the source table (plan names it first) and changes nothing; with both
# tables in the migration it drops them, the referencing one first
test_drop_source_refuses_while_dependents_exist() {
  local d; d=$(scratch); fresh_chinook "$d/src.db"
  invoice_spec "$d" Invoice
  $SEGUE plan "$d/m.yaml" | grep -q "depends on Invoice: foreign key InvoiceLine (InvoiceId)" ||
    fail "plan does not name the dependent: $($SEGUE plan "$d/m.yaml")"
  to_writes_switched "$d"
  local out; out=$($SEGUE cleanup "$d/m.yaml" --drop-source 2>&1); local rc=$?
  [ $rc = 4 ] || fail "cleanup --drop-source exit $rc: $out"
  echo "$out" | grep -q "dropping 'Invoice' would break what depends on it: foreign key InvoiceLine (InvoiceId); nothing was changed" ||
    fail "message: $out"
  [ "$(sqlite3 "$d/src.db" "SELECT count(*) FROM Invoice")" = 412 ] || fail "Invoice changed"
  $SEGUE status "$d/m.yaml" | grep -q "phase *writes_switched" || fail "phase moved: $($SEGUE status "$d/m.yaml")"
  check "cleanup keeping the source" $SEGUE cleanup "$d/m.yaml" >/dev/null
  [ "$(sqlite3 "$d/src.db" "SELECT count(*) FROM Invoice")" = 412 ] || fail "cleanup dropped Invoice"
  d=$(scratch); fresh_chinook "$d/src.db"
  invoice_spec "$d" Invoice InvoiceLine
  to_writes_switched "$d"
  check "cleanup --drop-source of both" $SEGUE cleanup "$d/m.yaml" --drop-source >/dev/null
  [ "$(sqlite3 "$d/src.db" "SELECT count(*) FROM sqlite_schema WHERE name IN ('Invoice', 'InvoiceLine')")" = 0 ] ||
    fail "source tables left"
  [ "$(sqlite3 "$d/tgt.db" "SELECT sum(Total) FROM Invoice_v2")" = "$(sqlite3 "$CHINOOK" \
      "SELECT sum(Total + (InvoiceId % 7 = 0)) FROM Invoice")" ] || fail "the writer's updates did not arrive"
  # the record stays readable without the source tables
  out=$($SEGUE status "$d/m.yaml" 2>&1) && echo "$out" | grep -q "phase *cleaned" ||
    fail "status after the source tables were dropped: $out"
  out=$($SEGUE log "$d/m.yaml" 2>&1) && echo "$out" | grep -q "cleanup .*writes_switched -> cleaned" ||
    fail "log after the source tables were dropped: $out"
  out=$($SEGUE verify "$d/m.yaml" 2>&1) && fail "verify ran without the source tables: $out"
  echo "$out" | grep -q "is cleaned" || fail "verify after cleanup: $out"
}

# mappings: all takes every table of the source: a table without a primary
# key blocks plan and start (naming it, with the exclude: hint) and changes
# nothing; an excluded name that is no table, and a target in the source's
# own file, are spec errors at their line; with the keyless table excluded,
# every other table moves under writes, and a table made on the source
# after start is not taken in
test_mappings_all() {
  local d; d=$(scratch); fresh_chinook "$d/src.db"
  sqlite3 "$d/src.db" "CREATE TABLE Notes (body TEXT)"
  all_spec() { printf 'version: 1\nname: all\nsource: sqlite:%s\ntarget: sqlite:%s\n%s\n' \
    "$d/src.db" "$2" "$1" > "$d/m.yaml"; }
  all_spec "mappings: all" "$d/tgt.db"
  local out rc
  out=$($SEGUE plan "$d/m.yaml" 2>&1); rc=$?
  [ $rc = 4 ] || fail "plan with a keyless table: exit $rc"
  echo "$out" | grep -q "^blocker: .*m.yaml:5: mappings: all: 1 source table without a primary key (Notes).*exclude:" ||
    fail "plan's blocker: $(echo "$out" | grep -v '^ ' | tail -3)"
  out=$($SEGUE start "$d/m.yaml" 2>&1) && fail "start took a keyless table"
  [ ! -s "$d/tgt.db" ] || fail "a refused start wrote to the target file"
  all_spec $'mappings:\n  all: true\n  exclude: [Notes, Nope]' "$d/tgt.db"
  out=$($SEGUE plan "$d/m.yaml" 2>&1); rc=$?
  [ $rc = 2 ] && echo "$out" | grep -q "m.yaml:7: exclude names 'Nope', which is not a table" ||
    fail "an excluded name that is no table: exit $rc: $out"
  all_spec "mappings: all" "$d/src.db"
  out=$($SEGUE plan "$d/m.yaml" 2>&1); rc=$?
  [ $rc = 2 ] && echo "$out" | grep -q "m.yaml:5: mappings: all copies every table into another database" ||
    fail "mappings: all into the source's own file: exit $rc: $out"
  all_spec $'mappings:\n  all: true\n  exclude: [Notes]\n  foreign_keys: true' "$d/tgt.db"
  check "plan" $SEGUE plan "$d/m.yaml" > "$d/plan.out"
  grep -q 'CREATE TABLE "Track" .*CONSTRAINT "Track_AlbumId_fkey" FOREIGN KEY ("AlbumId") REFERENCES "Album" ("AlbumId")' "$d/plan.out" ||
    fail "plan's CREATE TABLE has no foreign key: $(grep 'CREATE TABLE "Track"' "$d/plan.out")"
  $SEGUE plan "$d/m.yaml" --check > "$d/check.out" && ! grep -q "foreign key" "$d/check.out" ||
    fail "plan --check: the foreign keys in the CREATE TABLE are not reported the same: $(grep 'foreign key' "$d/check.out" | head -2)"
  [ "$(grep -c '^mapping ' "$d/plan.out")" = 11 ] || fail "plan: $(grep '^mapping ' "$d/plan.out")"
  check "start" $SEGUE start "$d/m.yaml" >/dev/null
  sqlite3 "$d/src.db" "CREATE TABLE Later (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO Later VALUES (1, 'x')"
  writes "$d/src.db" 30 &
  local w=$!
  check "backfill" $SEGUE backfill "$d/m.yaml" >/dev/null
  wait $w || fail "the writes"
  check "run" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  check "verify" $SEGUE verify "$d/m.yaml" >/dev/null
  local t n
  for t in $(sqlite3 "$CHINOOK" "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite%'"); do
    n=$(sqlite3 "$d/src.db" "ATTACH '$d/tgt.db' AS t; SELECT
      (SELECT count(*) FROM (SELECT * FROM main.\"$t\" EXCEPT SELECT * FROM t.\"$t\")) +
      (SELECT count(*) FROM (SELECT * FROM t.\"$t\" EXCEPT SELECT * FROM main.\"$t\"))")
    [ "$n" = 0 ] || fail "$t: $n rows differ"
  done
  [ "$(sqlite3 "$d/tgt.db" "SELECT count(*) FROM sqlite_schema WHERE name IN ('Later', 'Notes')")" = 0 ] ||
    fail "the target has a table that was excluded or made after start"
  # foreign_keys: true: the target has the source's foreign keys, and what
  # violates them (a key change the source's connections did not check)
  # is the same on both sides
  [ "$(sqlite3 "$d/tgt.db" "SELECT count(*) FROM pragma_foreign_key_list('Track')")" = 3 ] ||
    fail "the target's Track lacks foreign keys"
  local fkq='SELECT "table", parent, count(*) FROM pragma_foreign_key_check GROUP BY 1, 2 ORDER BY 1, 2'
  [ "$(sqlite3 "$d/tgt.db" "$fkq")" = "$(sqlite3 "$d/src.db" "$fkq")" ] ||
    fail "the rows violating foreign keys differ between source and target"
  $SEGUE plan "$d/m.yaml" | grep -q "^11 mappings" || fail "plan after start: $($SEGUE plan "$d/m.yaml" | tail -1)"
}

# plan's schema report compares the target column by column, index by index
# and CHECK by CHECK: a clean target passes plan --check (exit 0); one
# with a wider NULL rule, another default and a missing index fails it
# (exit 3) naming each; before start, the table segue would make is clean
test_plan_check_compares_the_schemas() {
  local d; d=$(scratch)
  sqlite3 "$d/src.db" "PRAGMA journal_mode=WAL; CREATE TABLE par (id INTEGER PRIMARY KEY);
    CREATE TABLE s (id INTEGER PRIMARY KEY, a TEXT NOT NULL DEFAULT 'x', b INT, p INT REFERENCES par (id),
      CHECK (b >= 0)); CREATE INDEX s_b ON s (b); CREATE TRIGGER s_touch AFTER UPDATE ON s BEGIN SELECT 1; END;
    INSERT INTO s VALUES (1, 'one', 1, NULL), (2, 'two', 2, NULL)" >/dev/null || { fail "source"; return; }
  sqlite3 "$d/tgt.db" "CREATE TABLE par (id INTEGER PRIMARY KEY);
    CREATE TABLE good (id INTEGER PRIMARY KEY, a TEXT NOT NULL DEFAULT 'x', b INT, p INT REFERENCES par (id),
      CHECK (b >= 0)); CREATE INDEX good_b ON good (b); CREATE TRIGGER s_touch AFTER UPDATE ON good BEGIN SELECT 1; END;
    CREATE TABLE bad (id INTEGER PRIMARY KEY, a TEXT DEFAULT 'y', b INT, p INT)" || { fail "targets"; return; }
  local t
  for t in good bad made; do
    { printf 'version: 1\nname: %s\nsource: sqlite:%s/src.db\ntarget: sqlite:%s/tgt.db\n' $t "$d" "$d"
      printf 'mappings:\n  - from: s\n    to: %s\n' $t
      [ $t = made ] && printf '    create: true\n'; } > "$d/$t.yaml"
  done
  local out rc
  out=$($SEGUE plan "$d/good.yaml" --check); rc=$?
  [ $rc = 0 ] || fail "plan --check of a clean target: exit $rc: $out"
  echo "$out" | grep -q "schema s -> good: 8 same, 0 changed as the mapping says, 0 unexpected" ||
    fail "clean report: $out"
  out=$($SEGUE plan "$d/bad.yaml" --check); rc=$?
  [ $rc = 3 ] || fail "plan --check of a diverging target: exit $rc: $out"
  echo "$out" | grep -qF "unexpected: column a: NULL allowed on the target, NOT NULL on the source; default 'y' on the target, 'x' expected" ||
    fail "the column line: $out"
  echo "$out" | grep -qF "unexpected: index s_b: the target lacks it (\"b\")" || fail "the index line: $out"
  echo "$out" | grep -qF "unexpected: check b >= 0: the target lacks it" || fail "the CHECK line: $out"
  echo "$out" | grep -qF "unexpected: foreign key (p) -> par: the target lacks it" || fail "the foreign key line: $out"
  echo "$out" | grep -qF "unexpected: trigger s_touch: the target has no trigger of that name" ||
    fail "the trigger line: $out"
  [ "$($SEGUE plan "$d/bad.yaml" --json | jq '.unexpected, ([.schema[] | select(.verdict == "unexpected")] | length)' | paste -sd,)" = "5,5" ] ||
    fail "--json: $($SEGUE plan "$d/bad.yaml" --json | jq -c .schema)"
  $SEGUE plan "$d/bad.yaml" >/dev/null || fail "plan without --check fails on the report"
  # the table segue would make: all the same, but no foreign key (by
  # design) and no trigger (segue cannot carry its code)
  out=$($SEGUE plan "$d/made.yaml" --check); rc=$?
  [ $rc = 3 ] && [ "$(echo "$out" | grep -c '^  unexpected: ')" = 1 ] &&
    echo "$out" | grep -q "^  unexpected: trigger s_touch" &&
    echo "$out" | grep -q "^  changed as the mapping says: foreign key (p) -> par: not carried" ||
    fail "the table segue would make: exit $rc: $out"
}

# progress with rows/s and ETA on a terminal, nothing of it otherwise
test_progress_on_a_terminal_only() {
  local d; d=$(scratch)
  sqlite3 "$d/src.db" "PRAGMA journal_mode=WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000)
    INSERT INTO t SELECT i, 'v' || i FROM n;" >/dev/null
  printf 'version: 1\nname: prog\nsource: sqlite:%s\ntarget: sqlite:%s\nmappings:\n  - from: t\n    to: t2\n    create: true\nbackfill:\n  chunk_time: 10ms\n  max_rows_per_second: 100000\n' \
    "$d/src.db" "$d/tgt.db" > "$d/m.yaml"
  check "start" $SEGUE start "$d/m.yaml" >/dev/null
  script -qec "$SEGUE backfill $d/m.yaml" /dev/null > "$d/tty.out" 2>&1 || fail "backfill on a terminal"
  grep -q "rows/s ETA" "$d/tty.out" || fail "no progress line on a terminal: $(tail -c 300 "$d/tty.out")"
  grep -q "50000/50000 rows" "$d/tty.out" || fail "progress did not reach the total"
  check "verify" $SEGUE verify "$d/m.yaml" >/dev/null
  local quiet; quiet=$($SEGUE verify "$d/m.yaml" 2>&1 >/dev/null)
  [ -z "$quiet" ] || fail "progress written to a non-terminal: $quiet"
}

# the docs name every setting and every command the code knows
test_docs_match_the_code() {
  local s
  for s in $(sed -n 's/^ *{ "\([a-z_.]*\)", "\([a-z_]*\)", SG_SETTING.*/\1.\2/p' src/lib/spec/settings.c); do
    grep -qF "| $s |" docs/spec.md || fail "docs/spec.md does not describe setting $s"
  done
  [ -n "${s:-}" ] || fail "no settings found in src/lib/spec/settings.c"
  for c in $(commands); do
    grep -q "\b$c\b" docs/cli.md || fail "docs/cli.md does not list $c"
  done
  local codes; codes=$(sed -n 's/^ *EXIT_[A-Z]* = \([0-9]*\),.*/\1/p' src/cli/cli.h)
  [ -n "$codes" ] || fail "no exit codes found in src/cli/cli.h"
  for s in $codes; do
    grep -q "^| $s | " docs/cli.md || fail "docs/cli.md does not explain exit code $s"
  done
}

# every command in the program's own usage list
commands() { $SEGUE --help | sed -n 's/^  \([a-z]*\) .*/\1/p'; }

test_help() {
  for c in $(commands); do
    $SEGUE $c --help | grep -q "usage: segue $c" || fail "$c --help"
  done
  $SEGUE nope >/dev/null 2>&1; [ $? = 2 ] || fail "unknown command exit"
  $SEGUE -V | grep -q "^segue " || fail "-V"
  # strict arguments: exit 2 before anything is opened (the spec does not exist)
  local out
  out=$($SEGUE status /nonexistent.yaml extra 2>&1); [ $? = 2 ] || fail "an extra argument: $out"
  echo "$out" | grep -q "unexpected argument 'extra'" || fail "extra argument message: $out"
  out=$($SEGUE verify /nonexistent.yaml -repair 2>&1); [ $? = 2 ] || fail "a single-dash long option: $out"
  echo "$out" | grep -q "unknown option '-repair'; options take two dashes" || fail "single-dash message: $out"
  out=$($SEGUE route /nonexistent.yaml k1 k2 2>&1); [ $? = 2 ] || fail "route with two keys: $out"
  out=$($SEGUE demo --rate 50x 2>&1); [ $? = 2 ] || fail "demo --rate 50x: $out"
  echo "$out" | grep -q "rate '50x' is not a positive whole number" || fail "--rate message: $out"
  out=$($SEGUE cutover /nonexistent.yaml --reads 0x14 2>&1); [ $? = 2 ] || fail "--reads 0x14: $out"
  echo "$out" | grep -q "reads '0x14' is not a percentage" || fail "--reads message: $out"
  local bad want
  for bad in "--json=1|option '--json' takes no value" "--chunk-rows|option '--chunk-rows' needs a value" \
             "-x|unknown option '-x'" "--nope|unknown option '--nope'" "--status-interval 5|--status-interval '5' is not a duration"; do
    want=${bad#*|}; bad=${bad%%|*}
    # shellcheck disable=SC2086
    out=$($SEGUE verify /nonexistent.yaml $bad 2>&1); [ $? = 2 ] || fail "verify $bad: $out"
    echo "$out" | grep -qF -- "$want" || fail "verify $bad said: $out"
  done
  out=$($SEGUE route /nonexistent.yaml -- -5 2>&1)
  echo "$out" | grep -q "cannot read spec '/nonexistent.yaml'" || fail "a key after -- taken as an option: $out"
}

# shadow reads: the store's reads, written for the old Track, run on the
# source and through the mapping on the renamed, transformed track_v2:
# every one matches; a read of random order is nondeterministic, a write is
# skipped, never run; a change the worker has not applied yet is pending,
# never a mismatch; a target row changed behind segue's back is a mismatch
# that names the row, and exits 3
# a spec moving Chinook's Track to track_v2 within one file; more lines
# from stdin
track_in_place() { # dir name
  { printf 'version: 1\nname: %s\nsource: sqlite:%s\ntarget: sqlite:%s\nmappings:\n  - from: Track\n    to: track_v2\n    create: true\n' \
      "$2" "$1/c.db" "$1/c.db"; cat; } > "$1/m.yaml"
}
# Track's columns renamed, its price in cents (and back)
track_columns() {
  cat <<YAML
    columns:
      track_id: TrackId
      title: Name
      album_id: AlbumId
      media_type_id: MediaTypeId
      genre_id: GenreId
      composer: Composer
      ms: Milliseconds
      bytes: Bytes
      price_cents: {expr: CAST(round(UnitPrice * 100) AS INTEGER), type: INTEGER}
    reverse:
      UnitPrice: price_cents / 100.0
YAML
}
test_shadow_reads() {
  local d; d=$(scratch); fresh_chinook "$d/c.db"
  track_columns | track_in_place "$d" shadow
  local reads=tests/e2e/shadow/chinook_reads.sql
  started_caught_up "$d/m.yaml"
  check "verify" $SEGUE verify "$d/m.yaml" >/dev/null
  local before; before=$(sqlite3 "$d/c.db" "SELECT md5 FROM (SELECT group_concat(TrackId || Name || UnitPrice) AS md5 FROM Track)")
  # two processes at once (one of three threads): their outcomes add up
  # exactly
  $SEGUE shadow "$d/m.yaml" --log "$reads" --concurrency 3 > "$d/other.out" 2>&1 & local other=$!
  local out; out=$($SEGUE shadow "$d/m.yaml" --log "$reads" --json) || fail "shadow: exit $?: $out"
  wait $other || fail "the other shadow process: $(tail -2 "$d/other.out")"
  [ "$(echo "$out" | jq -c '.outcomes | [.match, .mismatch, .order_only, .pending, .nondeterministic, .skipped]')" = "[10,0,0,0,1,1]" ] ||
    fail "shadow outcomes: $(echo "$out" | jq -c .outcomes) $(echo "$out" | jq -c '[.fingerprints[].examples[]]')"
  [ "$(sqlite3 "$d/c.db" "SELECT Name FROM Track WHERE TrackId = 1")" != "never run" ] || fail "shadow ran a write"
  [ "$(sqlite3 "$d/c.db" "SELECT md5 FROM (SELECT group_concat(TrackId || Name || UnitPrice) AS md5 FROM Track)")" = "$before" ] ||
    fail "shadow changed the source"
  local st; st=$($SEGUE status "$d/m.yaml" --json)
  [ "$(echo "$st" | jq -c '[.phase, .shadow.compared, .shadow.mismatches, .shadow.nondeterministic, .shadow.skipped]')" = '["shadowing",22,0,2,2]' ] ||
    fail "status after two shadow runs: $(echo "$st" | jq -c '[.phase, .shadow]')"
  $SEGUE log "$d/m.yaml" | grep -q "shadow *verified -> shadowing" || fail "no audit row for the move to shadowing"
  # a change waiting in the changelog: pending, not a mismatch
  sqlite3 -cmd ".timeout 5000" "$d/c.db" "UPDATE Track SET Composer = 'pending' WHERE TrackId = 42" || fail "app write"
  out=$($SEGUE shadow "$d/m.yaml" --log "$reads" --json) || fail "shadow with a change pending: exit $?"
  [ "$(echo "$out" | jq -c '.outcomes | [.mismatch, .pending]')" = "[0,1]" ] ||
    fail "shadow with a change pending: $(echo "$out" | jq -c .outcomes)"
  check "run" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null 2>&1
  # a target row changed behind segue's back
  as_segue "$d/c.db" "UPDATE track_v2 SET title = 'changed' WHERE track_id = 42"
  out=$($SEGUE shadow "$d/m.yaml" --log "$reads"); local rc=$?
  [ $rc = 3 ] && echo "$out" | grep -q "mismatch: 1 rows only the source returns: (42, 'Right Through You'" &&
    echo "$out" | grep -q "only the target returns: (42, 'changed'" ||
    fail "shadow of a changed target row: exit $rc: $(echo "$out" | grep -A1 mismatch:)"
  $SEGUE status "$d/m.yaml" --json | jq -r .shadow.example | grep -q "^mismatch: .*(42, 'changed'.* -- SELECT \* FROM Track WHERE TrackId = 42" ||
    fail "status does not show the example: $($SEGUE status "$d/m.yaml" --json | jq -c .shadow)"
}

# shadow --follow reads a log as it is written: the statement still being
# written waits for its ;, what was read is recorded as soon as the log
# goes quiet (status sees it), a log replaced under the same name
# (rotation) is read from its start, a signal ends it with the report and
# no failure; the old file is read to its end first. --sample takes a share of the statements (the same ones
# every run), --rate paces them, --duration ends a follow by itself.
shadow_compared() { [ "$($SEGUE status "$1" --json | jq '.shadow.compared')" -ge "$2" ]; }
test_shadow_follow_sample_rate() {
  local d; d=$(scratch); fresh_chinook "$d/c.db"
  track_columns | track_in_place "$d" shfollow
  started_caught_up "$d/m.yaml"
  local i log=$d/live.sql
  for i in 1 2 3 4 5; do echo "SELECT Name FROM Track WHERE TrackId = $i;"; done > "$log"
  printf 'SELECT Name FROM Track\n WHERE TrackId' >> "$log"
  $SEGUE shadow "$d/m.yaml" --log "$log" --follow --json > "$d/follow.json" 2> "$d/follow.err" &
  local sh=$!
  wait_for "the first 5 reads recorded" 60 shadow_compared "$d/m.yaml" 5 || { kill $sh; return; }
  printf ' = 6;\n' >> "$log"
  wait_for "the 6th read, once its ; was written" 60 shadow_compared "$d/m.yaml" 6 || { kill $sh; return; }
  # rotation: the old file renamed away after a last line, a new file
  # under the name
  echo "SELECT Name FROM Track WHERE TrackId = 7;" >> "$log"
  mv "$log" "$log.1"
  for i in 8 9 10; do echo "SELECT Name FROM Track WHERE TrackId = $i;"; done > "$log"
  wait_for "the old log's last read and the new log's 3" 60 shadow_compared "$d/m.yaml" 10 || { kill $sh; return; }
  kill -TERM $sh; wait $sh; local rc=$?
  [ $rc = 0 ] && [ "$(jq -c '[.compared, .outcomes.match, .outcomes.skipped, .unreadable]' "$d/follow.json")" = "[10,10,0,0]" ] ||
    fail "follow ended by a signal: exit $rc: $(cat "$d/follow.json" "$d/follow.err")"
  # --sample: about half, the same half every time; every statement
  # either replayed or passed over
  local reads=tests/e2e/shadow/chinook_reads.sql a b
  a=$($SEGUE shadow "$d/m.yaml" --log "$reads" --sample 0.5 --no-record --json | jq -c '[.queries, .sampled_out, [.fingerprints[].fingerprint]]')
  b=$($SEGUE shadow "$d/m.yaml" --log "$reads" --sample 0.5 --no-record --json | jq -c '[.queries, .sampled_out, [.fingerprints[].fingerprint]]')
  [ "$a" = "$b" ] && [ "$(echo "$a" | jq '.[0] + .[1]')" = 12 ] && [ "$(echo "$a" | jq '.[1]')" -gt 0 ] &&
    [ "$(echo "$a" | jq '.[0]')" -gt 0 ] || fail "--sample 0.5: $a then $b"
  # --rate 20: 12 statements take at least 11/20 s (a lower bound only)
  local t0=$EPOCHREALTIME
  check "shadow --rate" $SEGUE shadow "$d/m.yaml" --log "$reads" --rate 20 --no-record --max-mismatch 1 >/dev/null
  awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { exit !(b - a >= 0.55) }' || fail "--rate 20 replayed 12 statements in under 0.55 s"
  # --from-end: what the log holds now is passed over
  local was; was=$($SEGUE status "$d/m.yaml" --json | jq '.shadow.compared')
  $SEGUE shadow "$d/m.yaml" --log "$log" --follow --from-end --status-interval 100ms --json \
    > "$d/end.json" 2> "$d/end.err" &
  sh=$!
  # once it waits at the end (its progress line says so), two new reads
  wait_for "the follower at the end of the log" 60 grep -q "following" "$d/end.err" || { kill $sh; return; }
  for i in 11 12; do echo "SELECT Name FROM Track WHERE TrackId = $i;"; done >> "$log"
  wait_for "the two reads written after the start" 60 shadow_compared "$d/m.yaml" $((was + 2)) || { kill $sh; return; }
  kill -TERM $sh; wait $sh
  [ "$(jq '.compared' "$d/end.json")" = 2 ] || fail "--from-end replayed what the log held: $(jq -c .outcomes "$d/end.json")"
  out=$($SEGUE shadow "$d/m.yaml" --log "$log" --from-end 2>&1); rc=$?
  [ $rc = 2 ] && echo "$out" | grep -q -- "--from-end goes with --follow" || fail "--from-end alone: exit $rc: $out"
  # --duration ends a follow with nothing more to read by itself
  local out; out=$(timeout 60 $SEGUE shadow "$d/m.yaml" --log "$log" --follow --duration 1s --no-record --json); rc=$?
  [ $rc = 0 ] && [ "$(echo "$out" | jq '.compared')" = 5 ] || fail "--follow --duration 1s: exit $rc: $out"
  for i in "--sample 0" "--sample 1.5" "--rate 0" "--rate x" "--duration 5" "--max-mismatch=-0.1"; do
    out=$($SEGUE shadow "$d/m.yaml" --log "$reads" $i 2>&1); rc=$?
    [ $rc = 2 ] && echo "$out" | grep -q -- "${i%%[ =]*} '" || fail "shadow $i: exit $rc: $out"
  done
}

# the reads of a migration that splits Track into two tables (joined back
# on the key on the target side) and moves only the invoices above 5 (the
# source side filtered the same way), under a live writer with the worker
# applying: never a mismatch (differences in flight are pending, random()
# nondeterministic); once the writer stops and the worker catches up,
# every deterministic read matches. A row of the second table changed
# behind segue's back is a mismatch that names it.
caught_up() { [ "$($SEGUE status "$1" --json | jq '.pending_changes')" = 0 ]; }
test_shadow_split_and_where_under_a_live_writer() {
  local d; d=$(scratch); fresh_chinook "$d/c.db"
  example_spec table-split "$d/m.yaml" "sqlite:$d/c.db" "sqlite:$d/c.db"
  started_caught_up "$d/m.yaml"
  check "verify" $SEGUE verify "$d/m.yaml" >/dev/null
  { cat tests/e2e/shadow/chinook_reads.sql; echo ";"; cat tests/e2e/shadow/chinook_invoices.sql; } > "$d/reads.sql"
  $SEGUE run "$d/m.yaml" > /dev/null 2>&1 & local w=$!
  { writes "$d/c.db" 400 700000
    for i in $(seq 1 200); do echo "UPDATE Invoice SET Total = Total + 0.5 WHERE InvoiceId = $((i * 13 % 412 + 1));"; done |
      sqlite3 -cmd '.timeout 60000' "$d/c.db"; } & local wr=$!
  local out all="" n=0
  while kill -0 $wr 2>/dev/null || [ $n -lt 2 ]; do
    out=$($SEGUE shadow "$d/m.yaml" --log "$d/reads.sql" --no-record --json) ||
      { fail "shadow under the writer: exit $?: $(echo "$out" | jq -c '[.outcomes, [.fingerprints[].examples[]]]')"; break; }
    all="$all$(echo "$out" | jq -c .outcomes) "
    n=$((n + 1))
  done
  wait $wr || fail "the writer failed"
  wait_for "the worker caught up" 120 caught_up "$d/m.yaml" || { kill $w; return; }
  out=$($SEGUE shadow "$d/m.yaml" --log "$d/reads.sql" --json) || fail "shadow after the writer: exit $?"
  kill $w; wait $w 2>/dev/null
  [ "$(echo "$out" | jq -c '.outcomes | [.match, .mismatch, .order_only, .pending, .nondeterministic, .skipped]')" = "[14,0,0,0,1,1]" ] ||
    fail "shadow once caught up: $(echo "$out" | jq -c '[.outcomes, [.fingerprints[].examples[]]]') (under the writer: $all)"
  echo "shadow runs under the writer ($n): $all" | grep -o '"pending":[1-9][0-9]*' | head -3 >&2
  # a row of the second table changed behind segue's back
  as_segue "$d/c.db" "UPDATE track_extra SET composer = 'changed' WHERE track_id = 42"
  out=$($SEGUE shadow "$d/m.yaml" --log "$d/reads.sql" --json); local rc=$?
  [ $rc = 3 ] && [ "$(echo "$out" | jq '.outcomes.mismatch')" = 1 ] &&
    echo "$out" | jq -r '.fingerprints[].examples[]' | grep -q "only the target returns: (42, .*'changed'" ||
    fail "a changed row of the second table: exit $rc: $(echo "$out" | jq -c '[.outcomes, [.fingerprints[].examples[]]]')"
}

# gates.shadow: the read cutover waits for the application's reads to
# match. Too few compared reads: inconclusive, refused; enough, all
# matching: allowed; a mismatch above the rate: refused, named. A rate
# outside 0..1 is a spec error at its line.
test_shadow_gate() {
  local d; d=$(scratch); fresh_chinook "$d/c.db"
  track_in_place "$d" shgate <<YAML
gates:
  shadow:
    min_reads: 15
    window: 10m
YAML
  local reads=tests/e2e/shadow/chinook_reads.sql
  check "start" $SEGUE start "$d/m.yaml" >/dev/null
  check "backfill" $SEGUE backfill "$d/m.yaml" >/dev/null 2>&1
  check "verify" $SEGUE verify "$d/m.yaml" >/dev/null
  local out
  out=$(with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --reads 10 2>&1); local rc=$?
  [ $rc = 4 ] && echo "$out" | grep -q "shadow_mismatch_rate: 0 reads compared in the last 10m (inconclusive)" ||
    fail "read cutover before any shadow read: exit $rc: $out"
  check "shadow" $SEGUE shadow "$d/m.yaml" --log "$reads" >/dev/null
  check "shadow again" $SEGUE shadow "$d/m.yaml" --log "$reads" >/dev/null
  check "read cutover with 22 matching reads" with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --reads 10 >/dev/null
  as_segue "$d/c.db" "UPDATE track_v2 SET Name = 'changed' WHERE TrackId = 42"
  $SEGUE shadow "$d/m.yaml" --log "$reads" >/dev/null
  out=$(with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --reads 50 2>&1); rc=$?
  [ $rc = 4 ] && echo "$out" | grep -q "shadow_mismatch_rate: 33 reads compared in the last 10m, 1 mismatched" ||
    fail "read cutover after a mismatch: exit $rc: $out"
  sed -i 's/    window: 10m/    max_mismatch_rate: 1.5/' "$d/m.yaml"
  out=$($SEGUE status "$d/m.yaml" 2>&1); rc=$?
  [ $rc = 2 ] && echo "$out" | grep -q "m.yaml:12: gates.shadow.max_mismatch_rate: '1.5' is not a number in 0..1" ||
    fail "a rate above 1: exit $rc: $out"
}

# the C API's shadow read by key (tests/tools/shadow_key, as an
# application calls it): every key matches; a key whose change waits in the
# changelog is pending, never a mismatch; two processes recording the same
# minute add up exactly
test_shadow_by_key_c_api() {
  local d; d=$(scratch); fresh_chinook "$d/c.db"
  track_columns | track_in_place "$d" shkey
  local tool; tool=$(dirname "$SEGUE")/tools/shadow_key
  started_caught_up "$d/m.yaml"
  local out; out=$("$tool" "$d/m.yaml" Track 1 300) || fail "shadow_key: $out"
  [[ "$out" == "match=300 mismatch=0 "* ]] || fail "keys 1..300: $out"
  sqlite3 -cmd ".timeout 5000" "$d/c.db" "UPDATE Track SET Composer = 'pending' WHERE TrackId = 5" || fail "app write"
  out=$("$tool" "$d/m.yaml" Track 1 10) || fail "shadow_key with a change pending: $out"
  [[ "$out" == "match=9 mismatch=0 order_only=0 pending=1 "* ]] || fail "keys 1..10 with key 5 pending: $out"
  check "run" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null 2>&1
  "$tool" --record "$d/m.yaml" Track 1 200 > "$d/a.out" 2>&1 & local a=$!
  "$tool" --record "$d/m.yaml" Track 101 250 > "$d/b.out" 2>&1 || fail "second recorder: $(cat "$d/b.out")"
  wait $a || fail "first recorder: $(cat "$d/a.out")"
  [ "$($SEGUE status "$d/m.yaml" --json | jq .shadow.compared)" = 350 ] ||
    fail "recorded by two processes: $($SEGUE status "$d/m.yaml" --json | jq -c .shadow)"
  # under a live writer with the worker applying: rows in flight are
  # pending, never a mismatch
  $SEGUE run "$d/m.yaml" > /dev/null 2>&1 & local w=$!
  writes "$d/c.db" 600 800000 & local wr=$! n=0
  while kill -0 $wr 2>/dev/null || [ $n -lt 1 ]; do
    out=$("$tool" "$d/m.yaml" Track 1 3000) || { fail "shadow_key under the writer: $out"; break; }
    [[ "$out" == *" mismatch=0 "* ]] || fail "shadow_key under the writer: $out"
    n=$((n + 1))
  done
  wait $wr || fail "the writer failed"
  kill $w; wait $w 2>/dev/null
  echo "shadow_key under the writer, last pass: $out" >&2
}

run_tests
