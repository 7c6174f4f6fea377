#!/usr/bin/env bash
# The rollout that runs itself, on SQLite files under a live writer and an
# application reporting outcomes: `segue run` walks cutover.reads step by
# step as the gates allow, rolls back when a check fails failure_limit
# evaluations in a row, holds while a check is inconclusive, resumes the
# same step after kill -9, and pauses and resumes on command. Every wait is
# for a state (a step, a mode, a count of evaluations), never for a time.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
. tests/e2e/rollout/hooks.sh
. tests/e2e/serve_lib.sh
TOOLS=${TOOLS:-$(dirname "$SEGUE")/tools}

spec_rollout() { # dir hold min_samples [on_rollback yaml]
cat > "$1/m.yaml" <<YAML
version: 1
name: ro
source: sqlite:$1/src.db
target: sqlite:$1/tgt.db
mappings:
  - from: Track
    to: track_v2
    create: true
backfill:
  chunk_time: 50ms
worker:
  lease_ttl: 2s
cutover:
  auto: true
  reads:
    - {pct: 1, hold: $2}
    - {pct: 10, hold: $2}
    - {pct: 50, hold: ${HOLD3:-$2}}
    - {pct: 100, hold: $2}
  bake: ${BAKE:-0}
  writes: {auto: ${WRITES_AUTO:-false}, max_fence: 2s}
gates:
  interval: 200ms
  failure_limit: 3
  checks:
    error_rate: {side: target, max: 0.05, window: 1m, min_samples: $3}
    lag: {max: 5s}
${EXTRA:-}
${4:-}
YAML
}

q() { sqlite3 -cmd '.timeout 30000' "$@"; }
# a live writer until $1/stop; sets WRITER (keys >= 100). It writes where
# the last write went, and on a refusal (the guard of the side writes left)
# asks segue where writes go now and writes there; $1/sides gets the side
# of each write that went through
live_writer() { # dir spec
  rm -f "$1/stop"
  (side=source
   while [ ! -e "$1/stop" ]; do
     k=$((RANDOM % 2900 + 100))
     write_at "$1" $side $k 2>/dev/null && continue
     side=$($SEGUE route "$2" 1 --json | jq -r .write)
     write_at "$1" $side $k || exit 1
   done) &
  WRITER=$!
}
write_at() { # dir side key
  if [ "$2" = source ]; then
    q "$1/src.db" "UPDATE Track SET Milliseconds = Milliseconds + 1 WHERE TrackId = $3"
  else
    q "$1/tgt.db" "UPDATE track_v2 SET Milliseconds = Milliseconds + 1 WHERE TrackId = $3"
  fi && echo "$2" >> "$1/sides"
}
wrote_on() { grep -q "^$2$" "$1/sides" 2>/dev/null; } # dir side
# the application: good outcomes on both sides until $1/stop (or, once
# $1/bad exists, failures on the target), 1 ms on the source and
# $TARGET_MS (2) on the target; sets REPORTER
reporter() { # dir spec
  (while [ ! -e "$1/stop" ]; do
     "$TOOLS/report_outcomes" "$2" source get_track 1 1 10 || exit 1
     if [ -e "$1/bad" ]; then "$TOOLS/report_outcomes" "$2" target get_track 0 3 10 || exit 1
     else "$TOOLS/report_outcomes" "$2" target get_track 1 "${TARGET_MS:-2}" 10 || exit 1; fi
   done) &
  REPORTER=$!
}
rollout() { $SEGUE gates "$1" --json | jq -r ".rollout.$2"; }
mode_is() { [ "$(rollout "$1" mode)" = "$2" ]; }
step_is() { [ "$(rollout "$1" step)" = "$2" ]; }
phase_is() { [ "$($SEGUE status "$1" --json | jq -r .phase)" = "$2" ]; }
evals_at() { # db step: evaluations of error_rate recorded at that step (0-based)
  q "$1" "SELECT count(*) FROM _segue_gate_evals WHERE name = 'error_rate' AND step = $2"
}
more_evals() { [ "$(evals_at "$1" "$2")" -ge "$3" ]; }
# whether $D/tgt.db holds at least N evaluations of any step
some_evals() { [ "$(q "$D/tgt.db" "SELECT count(*) FROM _segue_gate_evals" 2>/dev/null || echo 0)" -ge "$1" ]; }

# start, backfill, verify (and pause first, when asked); the writer, the
# reporter and a worker running
rollout_ready() { # dir hold min_samples [pause-first] [on_rollback yaml]
  D=$1; fresh_chinook "$D/src.db"; spec_rollout "$1" "$2" "$3" "${5:-}"
  rollout_running "${4:-}"
}
# the same for the spec $D/m.yaml of $D/src.db
rollout_running() { # [pause-first]
  started_caught_up "$D/m.yaml"
  live_writer "$D" "$D/m.yaml"
  check "verify" quiet $SEGUE verify "$D/m.yaml"
  [ -z "${1:-}" ] || check "pause" quiet $SEGUE pause "$D/m.yaml" --reason "a look first"
  reporter "$D" "$D/m.yaml"
  $SEGUE run "$D/m.yaml" > "$D/run.log" 2>&1 &
  WORKER=$!
}
stop_all() {
  touch "$D/stop"
  wait $WRITER || fail "the live writer failed"
  wait $REPORTER || fail "the reporter failed"
  kill $WORKER 2>/dev/null; wait $WORKER 2>/dev/null
}
same_tracks() { # when
  local n; n=$(q "$D/src.db" "ATTACH '$D/tgt.db' AS t; SELECT
    (SELECT count(*) FROM (SELECT * FROM Track EXCEPT SELECT * FROM t.track_v2)) +
    (SELECT count(*) FROM (SELECT * FROM t.track_v2 EXCEPT SELECT * FROM Track))")
  [ "$n" = 0 ] || fail "$n rows differ $1"
}
quiet() { "$@" > /dev/null 2>&1; }
# `segue runbook` ticks each read step the audit shows taken, with the
# audit's time and actor, and no other: prints the number ticked
runbook_ticks() { # spec
  local book at pct ticked=0
  book=$($SEGUE runbook "$1") || { fail "runbook: $book"; return; }
  while IFS='|' read -r at pct; do
    echo "$book" | grep -q "^- \[x\] read step [0-9]*: $pct % of reads .* done $at by " ||
      fail "runbook does not tick the step to $pct % at $at: $(echo "$book" | grep 'read step')"
  done < <($SEGUE log "$1" --json | jq -r '.[] | select(.action == "cutover_reads") |
             "\(.at)|\(.detail | capture("-> (?<p>[0-9]+)%").p)"')
  echo "$book" | grep -c '^- \[x\] read step'
}

# a clean migration walks 1, 10, 50, 100 % by itself; the writes move on
# command, then cleanup; every advance is in the audit with the values that
# moved it and the gate configuration's hash; source and target agree
test_a_clean_rollout_walks_every_step() {
  rollout_ready "$(scratch)" 1s 20
  wait_for "the rollout is done" 120 mode_is "$D/m.yaml" done || { stop_all; return; }
  [ "$($SEGUE status "$D/m.yaml" --json | jq -r .read_pct)" = 100 ] || fail "reads not at 100 %"
  local steps; steps=$(q "$D/tgt.db" "SELECT detail FROM _segue_audit WHERE action =
    'cutover_reads' ORDER BY id" | tr '\n' ';')
  [ "$steps" = "reads to target 0% -> 1%;reads to target 1% -> 10%;reads to target 10% -> 50%;reads to target 50% -> 100%;" ] ||
    fail "read steps: $steps"
  [ "$(q "$D/tgt.db" "SELECT count(*) FROM _segue_audit WHERE action = 'rollout_advance'
    AND detail LIKE 'every check passed for the whole hold of step _ (%error_rate 0/0.05 (pass)%(gates ________________)'")" = 3 ] ||
    fail "advances with their values: $($SEGUE log "$D/m.yaml" | grep rollout_)"
  [ "$(q "$D/tgt.db" "SELECT count(*) FROM _segue_audit WHERE action = 'rollout_done'")" = 1 ] ||
    fail "no rollout_done"
  [ "$(runbook_ticks "$D/m.yaml")" = 4 ] || fail "runbook: $($SEGUE runbook "$D/m.yaml" | grep 'read step')"
  check "writes" quiet $SEGUE cutover "$D/m.yaml" --writes
  stop_all
  check "drain" quiet $SEGUE run "$D/m.yaml" --until caught-up
  same_tracks "after the rollout"
  check "cleanup" quiet $SEGUE cleanup "$D/m.yaml"
}

# a person's pause and resume never fail on the worker's own saves: 25
# pairs while it evaluates every 200 ms each go through (each reads and
# writes the state in one transaction that holds it); the audit has them all
test_pause_and_resume_beside_the_evaluations_never_fail() {
  rollout_ready "$(scratch)" 1s 100000
  wait_for "three evaluations" 60 some_evals 3 || { stop_all; return; }
  # another writer of the control database keeps taking its write lock, so
  # that a command's write waits and the worker's saves come in between
  # (briefly, with pauses: the worker's apply keeps up and no gate fails)
  (while [ ! -e "$D/stop" ]; do
     q "$D/tgt.db" "BEGIN IMMEDIATE; WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL
       SELECT x + 1 FROM c LIMIT 50000) SELECT count(*) FROM c; COMMIT;" > /dev/null
     sleep 0.02
   done) &
  local holder=$! i out
  for i in $(seq 25); do
    out=$($SEGUE pause "$D/m.yaml" --reason "look $i" 2>&1) || { fail "pause $i: $out"; break; }
    out=$($SEGUE resume "$D/m.yaml" --reason "go $i" 2>&1) || { fail "resume $i: $out"; break; }
  done
  [ "$(q "$D/tgt.db" "SELECT count(*) FROM _segue_audit WHERE action IN ('rollout_pause', 'rollout_resume')")" = 50 ] ||
    fail "audited: $($SEGUE log "$D/m.yaml" | grep -c rollout_)"
  stop_all
  wait $holder
}

# examples/specs/gated-rollout.yaml, its holds and interval shortened and
# its sample minimums lowered so that it runs here: it walks every step by
# itself under the live writer with every check of the example, then the
# writes move on command into the example's day of bake, which holds
# cleanup back (exit 4) while rollback still works
test_the_gated_rollout_example_walks_into_its_bake() {
  D=$(scratch); fresh_chinook "$D/src.db"
  example_spec gated-rollout "$D/m.yaml" "sqlite:$D/src.db" "sqlite:$D/tgt.db"
  sed -i 's/hold: [0-9a-z]*}/hold: 1s}/; s/interval: 30s/interval: 200ms/; s/min_samples: 500/min_samples: 20/;
          s/window: [0-9]*m,/window: 1m,/' "$D/m.yaml"
  [ "$(grep -c 'hold: 1s}' "$D/m.yaml")" = 4 ] || fail "the example's holds: $(grep hold "$D/m.yaml")"
  TARGET_MS=1 rollout_running
  wait_for "the rollout is done" 120 mode_is "$D/m.yaml" done || { stop_all; return; }
  local evals; evals=$(q "$D/tgt.db" "SELECT group_concat(DISTINCT name) FROM (SELECT name FROM _segue_gate_evals ORDER BY name)")
  [ "$evals" = "error_rate,lag,latency_ratio,set_aside_keys,sql,verify_clean,worker_alive" ] ||
    fail "checks evaluated: $evals"
  check "writes" quiet $SEGUE cutover "$D/m.yaml" --writes
  wait_for "the writer writes on the target" 60 wrote_on "$D" target
  phase_is "$D/m.yaml" baking || fail "phase after the writes: $($SEGUE status "$D/m.yaml" --json | jq -r .phase)"
  $SEGUE cleanup "$D/m.yaml" > "$D/cleanup.out" 2>&1; local rc=$?
  [ $rc = 4 ] || fail "cleanup during the bake exited $rc: $(cat "$D/cleanup.out")"
  stop_all
  check "drain" quiet $SEGUE run "$D/m.yaml" --until caught-up
  same_tracks "after the rollout"
  check "rollback during the bake" quiet $SEGUE rollback "$D/m.yaml"
}

# the target's error rate goes bad at 10 %: the third failing evaluation in
# a row rolls the reads back to the source, says why, and pages through
# both hooks: the command with the migration's facts, the webhook with an
# Alertmanager alert
test_a_failing_gate_rolls_back_and_pages() {
  local d; d=$(scratch); pager "$d"
  receiver "$d" || { fail "the webhook receiver did not start"; return; }
  rollout_ready "$d" 2s 20 "" "$(hooks_yaml "$d" "$HOOK_URL")"
  wait_for "step 2 (10 %)" 120 step_is "$D/m.yaml" 2 || { stop_all; kill $RECEIVER; return; }
  touch "$D/bad"
  wait_for "the rollout rolled back" 60 mode_is "$D/m.yaml" rolled_back || { stop_all; kill $RECEIVER; return; }
  phase_is "$D/m.yaml" verified || fail "phase after the rollback: $($SEGUE status "$D/m.yaml" --json | jq -r .phase)"
  [ "$($SEGUE status "$D/m.yaml" --json | jq -r .read_pct)" = 0 ] || fail "reads not back at 0 %"
  $SEGUE log "$D/m.yaml" | grep rollout_rollback | grep -q "error_rate failed 3 evaluations in a row at step 2 (10 %)" ||
    fail "rollback: $($SEGUE log "$D/m.yaml" | grep rollout_ | tail -2)"
  # the rollback came on the third failing evaluation at that step, not later
  local fails; fails=$(q "$D/tgt.db" "SELECT count(*) FROM _segue_gate_evals WHERE
    name = 'error_rate' AND step = 1 AND state = 1")
  [ "$fails" = 3 ] || fail "$fails failing evaluations at step 2 before the rollback"
  pages_arrived "$D" ro rollback 10 "error_rate failed 3"
  kill $RECEIVER; wait $RECEIVER 2>/dev/null
  stop_all
  check "drain" quiet $SEGUE run "$D/m.yaml" --until caught-up
  same_tracks "after the rollback"
}

# a webhook that never answers, and a command that is not there: the
# rollback does not wait for them; the webhook is tried again
test_a_hook_that_hangs_does_not_hold_the_rollback() {
  local d; d=$(scratch)
  receiver "$d" hang || { fail "the webhook receiver did not start"; return; }
  rollout_ready "$d" 2s 20 "" "$(printf 'on_rollback:\n  command: ["%s/no-such-pager"]\n  webhook: "%s"\n' "$d" "$HOOK_URL")"
  wait_for "step 1" 120 step_is "$D/m.yaml" 1 || { stop_all; kill $RECEIVER; return; }
  touch "$D/bad"
  wait_for "the rollout rolled back" 60 mode_is "$D/m.yaml" rolled_back || { stop_all; kill $RECEIVER; return; }
  # recorded before the webhook's tries (5 s each) are over: not after them
  grep -q "try 3 of 3" "$D/run.log" && fail "the rollback was recorded only after the webhook gave up"
  local at; at=$(q "$D/tgt.db" "SELECT count(*) FROM _segue_gate_evals WHERE name = 'error_rate' AND step = 0 AND state = 1")
  [ "$at" = 3 ] || fail "$at failing evaluations before the rollback"
  wait_for "a second try of the webhook" 60 grep -q "try 2 of 3" "$D/run.log" ||
    fail "webhook retries: $(grep on_rollback "$D/run.log")"
  grep -q "on_rollback: cannot run $d/no-such-pager" "$D/run.log" || fail "no word of the missing command: $(grep on_rollback "$D/run.log")"
  kill $RECEIVER; wait $RECEIVER 2>/dev/null
  stop_all
}

# target rows corrupted at 50 %: the background verify finds them, the
# verify gate fails three evaluations in a row and the reads roll back;
# verify --repair mends the rows and the next pass is clean
test_corrupted_rows_at_50_roll_back() {
  EXTRA="    verify_clean: {within: 1m}
verify: {every: 1s}" HOLD3=1h rollout_ready "$(scratch)" 1s 20
  wait_for "step 3 (50 %)" 120 step_is "$D/m.yaml" 3 || { stop_all; return; }
  as_segue "$D/tgt.db" "UPDATE track_v2 SET Name = 'corrupt' WHERE TrackId IN (10, 20, 30)" ||
    fail "corrupt the target"
  wait_for "the rollout rolled back" 120 mode_is "$D/m.yaml" rolled_back || { stop_all; return; }
  $SEGUE log "$D/m.yaml" | grep rollout_rollback | grep -q "verify_clean failed 3 evaluations in a row at step 3 (50 %): the last verify (.* ago) found 3 differences" ||
    fail "rollback: $($SEGUE log "$D/m.yaml" | grep rollout_ | tail -2)"
  [ "$($SEGUE status "$D/m.yaml" --json | jq -r .read_pct)" = 0 ] || fail "reads not back at 0 %"
  stop_all
  check "repair" quiet $SEGUE verify "$D/m.yaml" --repair
  check "verify after the repair" quiet $SEGUE verify "$D/m.yaml"
  same_tracks "after the repair"
}

# a rollback by hand while the rollout walks pauses it (the reads are no
# longer where its step put them); resume goes on from where the reads are
# now, 0 %: it walks again from the first step
test_a_rollback_by_hand_pauses_and_resume_starts_over() {
  HOLD3=1h rollout_ready "$(scratch)" 1s 20
  wait_for "step 3 (50 %)" 120 step_is "$D/m.yaml" 3 || { stop_all; return; }
  check "rollback by hand" quiet $SEGUE rollback "$D/m.yaml" --reason "by hand"
  wait_for "the rollout pauses" 60 mode_is "$D/m.yaml" paused || { stop_all; return; }
  $SEGUE log "$D/m.yaml" | grep rollout_pause | grep -q "reads were moved by hand to 0 % while step 3 is at 50 %" ||
    fail "pause: $($SEGUE log "$D/m.yaml" | grep rollout_ | tail -2)"
  check "resume" quiet $SEGUE resume "$D/m.yaml"
  $SEGUE log "$D/m.yaml" | grep rollout_resume | grep -q "resumed before the first step" ||
    fail "resume: $($SEGUE log "$D/m.yaml" | grep rollout_ | tail -2)"
  wait_for "step 2 again" 120 step_is "$D/m.yaml" 2 || { stop_all; return; }
  stop_all
}

# with cutover.bake the write cutover starts the bake: the live writer
# follows the writes to the target and its writes reach the source; cleanup
# is refused until the bake ends, then cut short with a reason, audited
test_the_bake_keeps_the_source_current_and_holds_cleanup() {
  BAKE=1h rollout_ready "$(scratch)" 1s 20
  wait_for "the rollout is done" 120 mode_is "$D/m.yaml" done || { stop_all; return; }
  check "writes" quiet $SEGUE cutover "$D/m.yaml" --writes
  phase_is "$D/m.yaml" baking || fail "phase after the write cutover: $($SEGUE status "$D/m.yaml" --json | jq -r .phase)"
  local out; out=$($SEGUE cleanup "$D/m.yaml" 2>&1); [ $? = 4 ] || fail "cleanup during the bake: $out"
  echo "$out" | grep -q "is baking for 60.0 min more" || fail "refusal: $out"
  # the writer's writes on the target flow back to the source meanwhile
  wait_for "the writer writes on the target" 60 wrote_on "$D" target || { stop_all; return; }
  stop_all
  check "drain" quiet $SEGUE run "$D/m.yaml" --until caught-up
  same_tracks "during the bake"
  check "cut short" quiet $SEGUE cleanup "$D/m.yaml" --force --reason "seen enough"
  $SEGUE log "$D/m.yaml" | grep -q "bake_cut_short .*with 60.0 min of it left.*seen enough" ||
    fail "audit: $($SEGUE log "$D/m.yaml" | tail -3)"
}

# with cutover.writes.auto the writes move after the last hold and the
# bake starts; the target's error rate going bad during the bake rolls
# reads and writes back to the source, and the writer that followed them
# lost nothing
test_writes_move_by_themselves_and_a_failing_bake_rolls_them_back() {
  WRITES_AUTO=true BAKE=1h rollout_ready "$(scratch)" 1s 20
  wait_for "the bake" 120 phase_is "$D/m.yaml" baking || { stop_all; return; }
  wait_for "the writer writes on the target" 60 wrote_on "$D" target || { stop_all; return; }
  $SEGUE log "$D/m.yaml" | grep rollout_writes | grep -q "the writes move (cutover.writes.auto)" ||
    fail "no rollout_writes: $($SEGUE log "$D/m.yaml" | grep rollout_ | tail -2)"
  touch "$D/bad"
  wait_for "the rollout rolled back" 60 mode_is "$D/m.yaml" rolled_back || { stop_all; return; }
  local st; st=$($SEGUE status "$D/m.yaml" --json)
  [ "$(echo "$st" | jq -r '"\(.phase) \(.read_pct) \(.write_side)"')" = "verified 0 source" ] ||
    fail "after the rollback: $(echo "$st" | jq -c '[.phase, .read_pct, .write_side]')"
  stop_all
  check "drain" quiet $SEGUE run "$D/m.yaml" --until caught-up
  same_tracks "after a rollback of the writes"
}

# too few outcomes: the error-rate check is inconclusive and the rollout
# holds at its first step however long it waits
test_too_little_traffic_holds_the_first_step() {
  rollout_ready "$(scratch)" 1s 100000
  wait_for "step 1" 120 step_is "$D/m.yaml" 1 || { stop_all; return; }
  wait_for "20 evaluations at step 1" 120 more_evals "$D/tgt.db" 0 20 || { stop_all; return; }
  step_is "$D/m.yaml" 1 || fail "advanced with an inconclusive check: step $(rollout "$D/m.yaml" step)"
  [ "$($SEGUE gates "$D/m.yaml" --json | jq -r '.checks[] | select(.name == "error_rate") | .state')" = inconclusive ] ||
    fail "error_rate: $($SEGUE gates "$D/m.yaml" | grep error_rate)"
  stop_all
}

# kill -9 of the worker during a hold: the next worker resumes the same
# step with the same hold clock, and no key changes side
test_kill_9_during_a_hold_resumes_the_same_step() {
  rollout_ready "$(scratch)" 1h 20
  wait_for "step 1" 120 step_is "$D/m.yaml" 1 || { stop_all; return; }
  local at before; at=$(rollout "$D/m.yaml" step_at_ms)
  seq 1 2000 | $SEGUE route "$D/m.yaml" --keys - > "$D/before"
  kill -9 $WORKER; wait $WORKER 2>/dev/null
  before=$(evals_at "$D/tgt.db" 0)
  # an evaluation from 1970: past the 7 days kept, the new worker prunes it
  q "$D/tgt.db" "INSERT INTO _segue_gate_evals (migration, at_ms, step, name, state,
    value, threshold, detail) VALUES ('ro', 1000, 0, 'lag', 0, 0, 5, 'planted')"
  $SEGUE run "$D/m.yaml" --wait > "$D/run2.log" 2>&1 &
  WORKER=$!
  wait_for "the new worker evaluates" 120 more_evals "$D/tgt.db" 0 $((before + 5)) || { stop_all; return; }
  [ "$(q "$D/tgt.db" "SELECT count(*) FROM _segue_gate_evals WHERE detail = 'planted'")" = 0 ] ||
    fail "the evaluation from 1970 was not pruned"
  [ "$(evals_at "$D/tgt.db" 0)" -ge "$before" ] || fail "recent evaluations were pruned"
  grep -q "1 evaluations older than 7 days pruned" "$D/run2.log" || fail "the prune was not said"

  step_is "$D/m.yaml" 1 || fail "step after the restart: $(rollout "$D/m.yaml" step)"
  [ "$(rollout "$D/m.yaml" step_at_ms)" = "$at" ] || fail "the hold clock started again"
  seq 1 2000 | $SEGUE route "$D/m.yaml" --keys - > "$D/after"
  cmp -s "$D/before" "$D/after" || fail "keys changed side: $(diff "$D/before" "$D/after" | head -3)"
  grep -c target "$D/after" | grep -qv '^0$' || fail "no key reads from the target at 1 %"
  stop_all
}

# pause (here before the first step) holds the rollout however long its
# gates pass; a second pause is refused; resume lets it walk on
test_pause_and_resume() {
  rollout_ready "$(scratch)" 1s 20 pause-first
  local before; before=$(evals_at "$D/tgt.db" -1)
  wait_for "10 evaluations while paused" 120 more_evals "$D/tgt.db" -1 $((before + 10)) || { stop_all; return; }
  step_is "$D/m.yaml" 0 || fail "moved while paused: step $(rollout "$D/m.yaml" step)"
  [ "$(runbook_ticks "$D/m.yaml")" = 0 ] || fail "runbook before the first step: $($SEGUE runbook "$D/m.yaml")"
  mode_is "$D/m.yaml" paused || fail "mode $(rollout "$D/m.yaml" mode)"
  [ "$($SEGUE status "$D/m.yaml" --json | jq -r .read_pct)" = 0 ] || fail "reads moved while paused"
  $SEGUE pause "$D/m.yaml" >/dev/null 2>&1; [ $? = 4 ] || fail "a second pause was not refused with 4"
  check "resume" quiet $SEGUE resume "$D/m.yaml"
  wait_for "step 2" 120 step_is "$D/m.yaml" 2 || { stop_all; return; }
  [ "$(runbook_ticks "$D/m.yaml")" -ge 2 ] || fail "runbook after step 2: $($SEGUE runbook "$D/m.yaml" | grep 'read step')"
  $SEGUE log "$D/m.yaml" | grep -q "rollout_pause .*paused before the first step.*a look first" ||
    fail "audit: $($SEGUE log "$D/m.yaml" | grep rollout_)"
  stop_all
}

# the lag check's evaluations recorded so far
lag_evals() { # (0 before the first is saved, with the table)
  local n; n=$(q "$D/tgt.db" "SELECT count(*) FROM _segue_gate_evals WHERE name = 'lag'" 2>/dev/null)
  echo "${n:-0}"
}
more_lag_evals() { [ "$(lag_evals)" -gt "$1" ]; }

# a pause saved while an evaluation that decided to advance was still
# going (its thread held right there; the worker's other threads run on):
# the advance does not happen, the rollout stays paused with the reads
# where they were
test_a_pause_during_an_evaluation_stops_its_advance() {
  D=$(scratch); fresh_chinook "$D/src.db"
  HOLD3=1s spec_rollout "$D" 1s 0
  sed -i '/error_rate:/d' "$D/m.yaml"
  started_caught_up "$D/m.yaml"
  check "verify" quiet $SEGUE verify "$D/m.yaml"
  mkdir "$D/hold"
  "$CRASHPOINT" --hold "$D/hold" "$D/m.yaml" rollout:forward run > "$D/run.log" 2>&1 &
  local w=$!
  wait_for "an evaluation decides to advance" 60 test -e "$D/hold/reached" ||
    { fail "no advance decided: $(tail -3 "$D/run.log")"; kill $w; return; }
  local before; before=$(lag_evals)
  check "pause" quiet $SEGUE pause "$D/m.yaml" --reason "mid-evaluation"
  touch "$D/hold/go"
  wait_for "an evaluation after the pause" 60 more_lag_evals "$before"
  [ "$($SEGUE status "$D/m.yaml" --json | jq -r .read_pct)" = 0 ] ||
    fail "the advance went through the pause: reads at $($SEGUE status "$D/m.yaml" --json | jq -r .read_pct) %"
  mode_is "$D/m.yaml" paused || fail "mode $(rollout "$D/m.yaml" mode)"
  kill $w; wait $w 2>/dev/null
}

# the names of the first 20 tracks (the drill's ledger writes them: the
# live writer never does)
first_names() { q "$D/src.db" "SELECT group_concat(Name, '|') FROM (SELECT Name FROM Track ORDER BY TrackId LIMIT 20)"; }
drilled() { echo "$OUT" | jq -e "$1" > /dev/null || fail "drill: not $1 in $OUT"; }

# the rollback drill under the live writer and the application: reads and
# writes go to the target, a gate fails on purpose, the worker rolls back;
# the drill times it (the worker, the C API's router, OFREP), loses no
# write, finds no difference, puts its rows back and leaves the rollout
# paused as it found it; the runbook shows its figures
test_a_drill_rolls_back_and_loses_no_write() {
  rollout_ready "$(scratch)" 1s 20 pause-first
  serve_start "$D" "$D/m.yaml" --listen 127.0.0.1:0 || { stop_all; return; }
  local names; names=$(first_names)
  wait_for "the worker caught up" 120 worker_ready "$D/m.yaml" || { stop_all; return; }
  OUT=$($SEGUE drill "$D/m.yaml" --writes --ofrep "$SERVE_URL" --json --reason "game day" 2> "$D/drill.err")
  [ $? = 0 ] || fail "drill: exit $?: $OUT $(tail -3 "$D/drill.err")"
  drilled '.outcome == "passed" and .writes_lost == 0 and .differences == 0'
  drilled '.writes_on_target > 0 and .writes_made > .writes_on_target'
  drilled '.to_rollback_ms >= 0 and .to_router_ms >= 0 and .to_ofrep_ms >= 0'
  drilled '.fence_ms >= 0 and .fence_in_ms >= 0 and .verified_rows > 0'
  drilled '.column == "Track.Name"'
  mode_is "$D/m.yaml" paused || fail "the rollout is $(rollout "$D/m.yaml" mode) after the drill"
  [ "$($SEGUE status "$D/m.yaml" --json | jq -r '"\(.read_pct) \(.write_side)"')" = "0 source" ] ||
    fail "routing after the drill: $($SEGUE status "$D/m.yaml" --json | jq -c '[.read_pct, .write_side]')"
  $SEGUE log "$D/m.yaml" | grep -q "drill_done .*drill 1: passed.*game day" ||
    fail "audit: $($SEGUE log "$D/m.yaml" | grep drill_)"
  $SEGUE runbook "$D/m.yaml" | grep -A3 "^- Last drill: 20" | grep -q "drill 1: passed" ||
    fail "runbook: $($SEGUE runbook "$D/m.yaml" | grep -A3 'Last drill')"
  grep -q "drill" "$D/run.log" || fail "the worker said nothing of the drill"
  stop_all; serve_stop
  check "drain" quiet $SEGUE run "$D/m.yaml" --until caught-up
  same_tracks "after the drill"
  [ "$(first_names)" = "$names" ] || fail "the drill's rows were not put back"
}

# a worker that loses the writes made on the target on their way back (a
# test-only fault): the drill finds the lost writes and exits 3
test_a_lost_write_fails_the_drill() {
  rollout_ready "$(scratch)" 1s 20 pause-first
  kill $WORKER; wait $WORKER 2>/dev/null # the worker again, with the fault
  "$TOOLS/crashpoint" --lose "$D/m.yaml" apply:lose-reverse run > "$D/run.log" 2>&1 &
  WORKER=$!
  wait_for "the worker caught up" 120 worker_ready "$D/m.yaml" || { stop_all; return; }
  OUT=$($SEGUE drill "$D/m.yaml" --writes --json 2> "$D/drill.err"); local rc=$?
  [ $rc = 3 ] || fail "drill exit $rc, not 3: $OUT $(tail -3 "$D/drill.err")"
  drilled '.writes_lost > 0 and (.outcome | startswith("lost"))'
  grep -q "fault at apply:lose-reverse fires" "$D/run.log" || fail "the fault never fired"
  stop_all
}

run_tests
