#!/usr/bin/env bash
# Gate checks on SQLite files: `segue gates` names each check with its
# value, threshold and state; a manual step is held back by a failing or
# inconclusive check and names it; checks of the target's traffic wait for
# the first step; --force --reason passes them, audited.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
TOOLS=${TOOLS:-$(dirname "$SEGUE")/tools}

spec_gated() { # dir [extra check line]
cat > "$1/m.yaml" <<YAML
version: 1
name: gated
source: sqlite:$1/src.db
target: sqlite:$1/tgt.db
mappings:
  - from: Track
    to: track_v2
    create: true
gates:
  checks:
    sql: {query: "SELECT count(*) FROM track_v2 WHERE UnitPrice < 0", max: 0}
    error_rate: {side: target, max: 0.05, min_samples: 20}
    heartbeat_lag: {max: 1h}
${2:-}
YAML
}

# one field of one check in `segue gates --json`
gate() { # spec check field
  $SEGUE gates "$1" --json | jq -r ".checks[] | select(.name == \"$2\") | .$3"
}
reads() { with_worker "$1" $SEGUE cutover "$1" --reads "$2" 2>&1; }

test_gates_show_each_check_with_its_value() {
  local d out rc; d=$(scratch); fresh_chinook "$d/src.db"; spec_gated "$d"
  started_caught_up "$d/m.yaml"
  check "verify" $SEGUE verify "$d/m.yaml" >/dev/null
  out=$($SEGUE gates "$d/m.yaml" --json); rc=$?
  [ $rc = 4 ] || fail "gates without a worker exited $rc, not 4"
  [ "$(echo "$out" | jq -r '[.checks[].name] | join(",")')" = \
    verify_clean,worker_alive,lag,heartbeat_lag,set_aside_keys,error_rate,sql ] ||
    fail "checks: $(echo "$out" | jq -c '[.checks[].name]')"
  [ "$(echo "$out" | jq -r '.checks[] | select(.name == "worker_alive") | .state')" = fail ] ||
    fail "worker_alive without a worker: $out"
  [ "$(echo "$out" | jq -r '.checks[] | select(.name == "sql") | "\(.state) \(.value) \(.line)"')" = \
    "pass 0 11" ] || fail "sql check: $(echo "$out" | jq -c '.checks[] | select(.name == "sql")')"
  [ "$(echo "$out" | jq -r '.checks[] | select(.name == "error_rate") | "\(.state) \(.blocks) \(.samples)"')" = \
    "inconclusive false 0" ] || fail "error_rate at 0 %: $(echo "$out" | jq -c '.checks[] | select(.name == "error_rate")')"
  $SEGUE gates "$d/m.yaml" | grep -q "^error_rate  *waits  *0 of 0 operations on the target" ||
    fail "text: $($SEGUE gates "$d/m.yaml")"
}

# a failing sql check holds the first step back and is named with its
# value; the target's error rate cannot be measured before the first step
# and does not hold it; from then on too few outcomes hold the next one,
# enough good ones pass it, and too many errors hold the one after until a
# person forces it with a reason, which the audit log keeps
test_a_step_waits_on_its_gates() {
  local d out; d=$(scratch); fresh_chinook "$d/src.db"; spec_gated "$d"
  started_caught_up "$d/m.yaml"
  check "verify" $SEGUE verify "$d/m.yaml" >/dev/null
  as_segue "$d/tgt.db" "UPDATE track_v2 SET UnitPrice = -1 WHERE TrackId IN (5, 6)"
  out=$(reads "$d/m.yaml" 1) && fail "reads 1 with two negative prices: $out"
  echo "$out" | grep -q "gates refused: sql: the gate query returned 2; needs at most 0" ||
    fail "refusal: $out"
  echo "$out" | grep -q "error_rate" && fail "error_rate held the first step: $out"
  check "repair" quiet $SEGUE verify "$d/m.yaml" --repair
  check "verify" quiet $SEGUE verify "$d/m.yaml"
  out=$(reads "$d/m.yaml" 1) || fail "reads 1 after the repair: $out"
  out=$(reads "$d/m.yaml" 10) && fail "reads 10 with no outcomes: $out"
  echo "$out" | grep -q "error_rate: 0 of 0 operations on the target failed .*(inconclusive); needs at least 20" ||
    fail "refusal at 1 %: $out"
  check "report ok" "$TOOLS/report_outcomes" "$d/m.yaml" target get_track 1 2 30
  out=$(reads "$d/m.yaml" 10) || fail "reads 10 after 30 good outcomes: $out"
  check "report errors" "$TOOLS/report_outcomes" "$d/m.yaml" target get_track 0 2 10
  [ "$(gate "$d/m.yaml" error_rate state) $(gate "$d/m.yaml" error_rate value)" = "fail 0.25" ] ||
    fail "error_rate with 10 of 40 failed: $($SEGUE gates "$d/m.yaml")"
  out=$(reads "$d/m.yaml" 50) && fail "reads 50 at a 25 % error rate: $out"
  echo "$out" | grep -q "error_rate: 10 of 40 operations on the target failed" || fail "refusal at 10 %: $out"
  out=$(with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --reads 50 --force --reason "known bad client" 2>&1) ||
    fail "forced reads 50: $out"
  $SEGUE log "$d/m.yaml" | grep "gate_forced" | grep -q "gate error_rate passed by force: 10 of 40.*known bad client" ||
    fail "audit: $($SEGUE log "$d/m.yaml" | tail -3)"
}

# a check that cannot be measured fails with the reason: a query that
# writes, a query that errors (SQLite's message), a query that never ends,
# a Prometheus that is not there; nothing is written by the query
test_a_check_that_cannot_measure_fails_with_the_reason() {
  local d; d=$(scratch); fresh_chinook "$d/src.db"
  spec_gated "$d" "    prometheus: {url: \"http://127.0.0.1:9/\", query: up, max: 1}"
  started_caught_up "$d/m.yaml"
  [ "$(gate "$d/m.yaml" prometheus state)" = fail ] || fail "prometheus not there: $(gate "$d/m.yaml" prometheus state)"
  gate "$d/m.yaml" prometheus detail | grep -q "Prometheus at http://127.0.0.1:9/ did not answer" ||
    fail "reason: $(gate "$d/m.yaml" prometheus detail)"
  sed -i 's/query: "SELECT count(\*) FROM track_v2 WHERE UnitPrice < 0"/query: "DELETE FROM track_v2 RETURNING 1"/' "$d/m.yaml"
  gate "$d/m.yaml" sql detail | grep -q "the gate query is not a read (is not a SELECT: DeleteStmt)" ||
    fail "a deleting query: $(gate "$d/m.yaml" sql detail)"
  sed -i 's/query: "DELETE FROM track_v2 RETURNING 1"/query: "REPLACE INTO track_v2 (TrackId) VALUES (1)"/' "$d/m.yaml"
  gate "$d/m.yaml" sql detail | grep -q "attempt to write a readonly database" ||
    fail "a writing query outside PostgreSQL's grammar: $(gate "$d/m.yaml" sql detail)"
  sed -i 's/query: "REPLACE INTO track_v2 (TrackId) VALUES (1)"/query: "SELECT count(*) FROM nosuch"/' "$d/m.yaml"
  gate "$d/m.yaml" sql detail | grep -q "the gate query failed: target: no such table: nosuch" ||
    fail "a failing query: $(gate "$d/m.yaml" sql detail)"
  # a query that never ends is stopped after 5 s: the check fails, the
  # evaluation (and a rollback behind it) does not wait on it
  sed -i 's/query: "SELECT count(\*) FROM nosuch"/query: "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"/' "$d/m.yaml"
  timeout -k 5 60 $SEGUE gates "$d/m.yaml" --json > "$d/endless.json"
  jq -r '.checks[] | select(.name == "sql") | .detail' "$d/endless.json" |
    grep -q "the gate query failed: target: interrupted" ||
    fail "an endless query: $(cat "$d/endless.json" | head -c 400)"
  [ "$(sqlite3 "$d/tgt.db" "SELECT count(*) FROM track_v2")" = 3503 ] || fail "the gate queries changed the target"
}

# the issue's rollout as `cutover --plan` shows it: each step with the
# soonest it can end (holds rounded up to whole intervals), every check
# with its parameters, the least total time with the bake, the hooks
test_cutover_plan_shows_the_schedule() {
  local d out; d=$(scratch); fresh_chinook "$d/src.db"
  spec_gated "$d" "    latency_ratio: {percentile: 99, max: 1.5}
cutover:
  auto: true
  reads:
    - {pct: 1,   hold: 10m}
    - {pct: 10,  hold: 30m}
    - {pct: 50,  hold: 1h}
    - {pct: 100, hold: 45s}
  bake: 24h
on_rollback:
  command: [\"/usr/local/bin/page-oncall\", \"--migration\", \"{name}\"]
  webhook: \"http://alertmanager.local:9093/api/v2/alerts\""
  check "start" quiet $SEGUE start "$d/m.yaml"
  out=$($SEGUE cutover "$d/m.yaml" --plan --json) || { fail "cutover --plan: $out"; return; }
  [ "$(echo "$out" | jq -c '[.steps[] | [.pct, .at_least_ms]]')" = \
    "[[1,600000],[10,2400000],[50,6000000],[100,6060000]]" ] || fail "steps: $(echo "$out" | jq -c .steps)"
  [ "$(echo "$out" | jq -r .least_ms)" = $((6060000 + 86400000)) ] || fail "least: $(echo "$out" | jq .least_ms)"
  [ "$(echo "$out" | jq -r '.checks[] | select(.name == "latency_ratio") | .params')" = \
    "percentile: 99, max: 1.5, window: 10m, min_samples: 500" ] || fail "checks: $(echo "$out" | jq -c .checks)"
  [ "$(echo "$out" | jq -r '[.checks[] | select(.every_step) | .name] | join(",")')" = \
    verify_clean,worker_alive,lag,set_aside_keys ] || fail "every-step checks: $(echo "$out" | jq -c .checks)"
  [ "$(echo "$out" | jq -r .command)" = "/usr/local/bin/page-oncall --migration {name}" ] || fail "command: $out"
  out=$($SEGUE cutover "$d/m.yaml" --plan)
  echo "$out" | grep -q "^  4     100 %  45s        1h41m$" || fail "text: $out"
  echo "$out" | grep -q "^bake: 24h; the least total time: 25h41m$" || fail "text: $out"
  $SEGUE cutover "$d/m.yaml" --plan --reads 5 >/dev/null 2>&1; [ $? = 2 ] || fail "--plan with --reads not exit 2"
}

# contradictory steps and unknown checks are spec errors with file:line,
# exit 2, before anything is opened
test_a_bad_rollout_spec_is_refused_with_its_line() {
  local d out; d=$(scratch); fresh_chinook "$d/src.db"
  spec_gated "$d" "cutover:
  reads:
    - {pct: 50, hold: 1m}
    - {pct: 10, hold: 1m}"
  out=$($SEGUE status "$d/m.yaml" 2>&1); [ $? = 2 ] || fail "steps going down: exit not 2: $out"
  echo "$out" | grep -q "m.yaml:17: cutover.reads: step 2 (10 %) does not rise above step 1 (50 %)" ||
    fail "steps going down: $out"
  spec_gated "$d" "    lagg: {max: 1s}"
  out=$($SEGUE cutover "$d/m.yaml" --plan 2>&1); [ $? = 2 ] || fail "unknown check: exit not 2: $out"
  echo "$out" | grep -q "m.yaml:14: unknown check 'lagg' in gates.checks; hint: known: verify_clean, lag," ||
    fail "unknown check: $out"
  [ ! -e "$d/tgt.db" ] || fail "a bad spec made the target"
}

quiet() { "$@" > /dev/null 2>&1; }

run_tests
