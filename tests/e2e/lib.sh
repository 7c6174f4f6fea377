# Helpers for end-to-end tests: each test is a function named test_*; `fail`
# records a failure with a message; `run_tests` runs them all and prints one
# line per test, then "e2e: N passed, N failed". E2E_ONLY=regex runs only
# the tests whose names match.
SEGUE=${SEGUE:-build/segue}
# a path under the shared datasets, found where `segue demo` looks
shared_data() { # sub-path
  local base
  for base in ../shared/data ../../shared/data; do
    [ -e "$base/$1" ] && { echo "$base/$1"; return 0; }
  done
  return 1
}
CHINOOK=${SEGUE_CHINOOK:-$(shared_data chinook/Chinook_Sqlite.sqlite)}
if [ ! -f "${CHINOOK:-}" ]; then
  echo "e2e: cannot find Chinook_Sqlite.sqlite (looked in ../shared/data/chinook and ../../shared/data/chinook); set SEGUE_CHINOOK to its path"
  echo "e2e: 0 passed, 1 failed"
  exit 1
fi
failures=0
fail() { echo "    FAIL: $*"; failures=$((failures + 1)); }
check() { local msg=$1; shift; "$@" || fail "$msg"; }
. tests/lib/json.sh
# an example spec (examples/specs/NAME.yaml) with the test's own source and
# target, and any more YAML appended (a setting the test tunes)
example_spec() { # name out source target [yaml]
  { sed -e "s|^source: .*|source: $3|" -e "s|^target: .*|target: $4|" "examples/specs/$1.yaml"
    [ -z "${5:-}" ] || printf '%b\n' "$5"; } > "$2"
}
scratch() { local d; d=$(mktemp -d /tmp/segue-e2e-XXXXXX); echo "$d"; }
fresh_chinook() { sqlite3 "$CHINOOK" ".backup '$1'" && sqlite3 "$1" 'PRAGMA journal_mode=WAL' >/dev/null; }
# writes made the way segue writes (its marker row in the transaction), so
# the guard on the side that must not take application writes lets them by
as_segue() { # db sql (waiting, as segue does, for a worker that holds the write lock)
  sqlite3 -cmd '.timeout 30000' "$1" "BEGIN IMMEDIATE; INSERT INTO _segue_applying VALUES (1); $2; DELETE FROM _segue_applying; COMMIT;"
}
run_tests() {
  local passed=0 failed=0 t before
  for t in $(declare -F | awk '{print $3}' | grep '^test_' | grep -E "${E2E_ONLY:-.}"); do
    before=$failures
    $t
    if [ $failures = "$before" ]; then echo "ok   $t"; passed=$((passed + 1))
    else echo "FAIL $t"; failed=$((failed + 1)); fi
  done
  echo "e2e: $passed passed, $failed failed"
  [ $failed = 0 ]
}
# polls until a command succeeds, up to a deadline in seconds; past it the
# test fails with the message (tests wait for conditions, never for time)
wait_for() { # message deadline-seconds command...
  local msg=$1 limit=$2 end=$((SECONDS + $2)); shift 2
  until "$@"; do
    [ $SECONDS -lt $end ] || { fail "timed out after $limit s waiting for: $msg"; return 1; }
    sleep 0.05
  done
}
# whether a process is stopped by a signal (state T in /proc/PID/stat)
is_stopped() { [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" = T ]; }
# the test tool that kills or stops segue at a named point (src/lib/base/testpoint.h)
CRASHPOINT=${CRASHPOINT:-$(dirname "$SEGUE")/tools/crashpoint}
# runs crashpoint --stop in the background until it stops at POINT; sets
# STOPPED to its pid (send it SIGCONT to go on)
stopped_at() { # spec point operation log [crashpoint-options]
  "$CRASHPOINT" --stop ${5:-} "$1" "$2" "$3" > "$4" 2>&1 &
  STOPPED=$!
  wait_for "$3 stopped at $2" 60 is_stopped $STOPPED || { kill -9 $STOPPED; return 1; }
}
# whether a worker holds the lease
worker_holds() { # spec
  $SEGUE status "$1" --json 2>/dev/null | grep -q '"worker_alive":true'
}
# whether a worker holds the lease and has caught up (lag under the gate's 1 s)
worker_ready() { # spec
  local st; st=$($SEGUE status "$1" --json 2>/dev/null) || return 1
  echo "$st" | grep -q '"worker_alive":true' || return 1
  [ "$(echo "$st" | jfield lag_ms)" -lt 1000 ]
}
# runs a command while a worker (`segue run SPEC`) holds the lease and has
# caught up, as the cutover gates require; the worker stops after it
# start, backfill and apply until nothing is pending, each step checked
started_caught_up() { # spec
  check "start" $SEGUE start "$1" >/dev/null
  check "backfill" $SEGUE backfill "$1" >/dev/null 2>&1
  check "run" $SEGUE run "$1" --until caught-up >/dev/null 2>&1
}
with_worker() { # spec command...
  local spec=$1 w rc; shift
  $SEGUE run "$spec" > /dev/null 2>&1 &
  w=$!
  wait_for "a worker holds the lease and caught up" 120 worker_ready "$spec" ||
    { kill $w; wait $w; return 1; }
  "$@"; rc=$?
  kill $w 2>/dev/null; wait $w 2>/dev/null
  return $rc
}
# whether a process runs (not gone, not a zombie waiting to be reaped)
running() { local s; s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1); [ -n "$s" ] && [ "$s" != Z ]; }
# `rounds` random disturbances of two workers contending for one migration
# (give it worker.lease_ttl: 1s), and of a command when one is given (run
# again whenever it is gone): each round starts what is gone, then after a
# random moment kill -9s one of them, or stops it past its lease and lets
# it go on (a worker that finds its lease taken exits 5, as it must).
# Prints the schedule.
chaos_workers() { # spec rounds log-dir [command...]
  local spec=$1 rounds=$2 dir=$3 r v n=2 w=(0 0 0) did=""
  shift 3
  [ $# -gt 0 ] && n=3
  for r in $(seq "$rounds"); do
    for v in $(seq 0 $((n - 1))); do
      if [ "${w[$v]}" = 0 ] || ! running "${w[$v]}"; then
        [ "${w[$v]}" != 0 ] && wait "${w[$v]}" 2>/dev/null
        if [ $v = 2 ]; then "$@" >> "$dir/command.log" 2>&1 &
        else $SEGUE run "$spec" --wait >> "$dir/worker$v.log" 2>&1 &
        fi
        w[$v]=$!
      fi
    done
    sleep 0.$((RANDOM % 5 + 1))
    v=$((RANDOM % n))
    if [ $((RANDOM % 2)) = 0 ]; then
      kill -9 "${w[$v]}" 2>/dev/null; did="$did kill$v"
    else
      kill -STOP "${w[$v]}" 2>/dev/null; sleep 1.$((RANDOM % 5)); kill -CONT "${w[$v]}" 2>/dev/null
      did="$did stop$v"
    fi
  done
  for v in $(seq 0 $((n - 1))); do kill "${w[$v]}" 2>/dev/null; wait "${w[$v]}" 2>/dev/null; done
  echo "$did"
}
# chaos_workers both ways: 25 rounds under a writer on the source (with a
# `verify --repair` disturbed too), a drain, an independent comparison and
# a verify; then the write cutover and 25 rounds under a writer on the
# target, with the workers syncing back, a drain and a comparison. The
# writers are commands that start one in the background, setting WRITER,
# until $D/stop exists; `same WHEN` compares both sides in plain SQL
chaos_both_ways() { # spec source-writer target-writer same
  local spec=$1 did
  $2
  did=$(chaos_workers "$spec" 25 "$D" $SEGUE verify "$spec" --repair)
  touch "$D/stop"; wait $WRITER || fail "the writer on the source failed"
  check "drain after$did" $SEGUE run "$spec" --until caught-up --wait >/dev/null
  $4 "after$did"
  check "verify" $SEGUE verify "$spec" >/dev/null
  check "reads" with_worker "$spec" $SEGUE cutover "$spec" --reads 100 >/dev/null
  check "writes" with_worker "$spec" $SEGUE cutover "$spec" --writes >/dev/null
  $3
  did=$(chaos_workers "$spec" 25 "$D")
  touch "$D/stop"; wait $WRITER || fail "the writer on the target failed"
  check "drain back after$did" $SEGUE run "$spec" --until caught-up --wait >/dev/null
  $4 "after the write cutover and$did"
}
