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
    check "reads 100" $SEGUE cutover "$1/m.yaml" --reads 100 >/dev/null
}

# abort checked the phase (reads_shifting), then a write cutover won and the
# application wrote to the target: abort must be refused, not drop the table
test_abort_refused_after_a_cutover_that_won() {
  local d; d=$(scratch); ready_for_writes "$d" || return
  stopped_at "$d/m.yaml" abort:checked abort "$d/abort.log" || return
  local ab=$STOPPED
  check "cutover --writes" $SEGUE cutover "$d/m.yaml" --writes >/dev/null
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
  check "the other cutover" $SEGUE cutover "$d/m.yaml" --writes >/dev/null
  kill -CONT $a
  wait $a && fail "both write cutovers succeeded"
  grep -q "cannot cutover --writes: migration 'e2e' is writes_switched" "$d/a.log" ||
    fail "the second cutover's refusal: $(cat "$d/a.log")"
  [ "$(sqlite3 "$d/tgt.db" "SELECT count(*) FROM _segue_audit WHERE action = 'cutover_writes'")" = 1 ] ||
    fail "more than one write cutover in the audit log"
}

run_tests
