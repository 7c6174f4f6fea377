#!/usr/bin/env bash
# SQLite benchmarks for segue, one run, each figure beside the baseline a user
# would otherwise reach for (`make bench`; BENCH_ROWS, BENCH_REPS, BENCH_SECS
# override the sizes; BENCH_ONLY names parts). Medians of BENCH_REPS runs;
# times are wall clock.
#   1. backfill of a BENCH_ROWS-row table vs a one-shot INSERT INTO ... SELECT
#      of the same mapping, in one file and across two files;
#   2. capture overhead: single-row UPDATE latency, triggers off vs on;
#   3. apply: changelog drain rate against a live writer's rate, and lag;
#   4. the C API's shadowed point read (sg_shadow_key) against the two plain
#      reads, into another file.
set -u
cd "$(dirname "$0")/.." || exit 1
SEGUE=${SEGUE:-build/segue}
LOAD=${LOAD:-build/bench/sqlite_load}
ROWS=${BENCH_ROWS:-1000000}
REPS=${BENCH_REPS:-3}
SECS=${BENCH_SECS:-10}
D=$(mktemp -d /tmp/segue-bench-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$D"' EXIT

. bench/lib.sh

DDL='CREATE TABLE accounts_v2 (aid INTEGER PRIMARY KEY, bid INTEGER NOT NULL,
  balance_cents INTEGER NOT NULL, filler TEXT)'
MAPPED='SELECT aid, bid, abalance * 100, filler FROM accounts'

make_base() {
  sqlite3 "$D/base.db" "PRAGMA journal_mode=WAL;
    CREATE TABLE accounts (aid INTEGER PRIMARY KEY, bid INTEGER NOT NULL,
      abalance INTEGER NOT NULL, filler TEXT);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS)
    INSERT INTO accounts SELECT i, (i - 1) / 100000 + 1, i % 1000, printf('%-84s', 'row ' || i) FROM n;
    PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null || die "cannot build the table"
}

fresh() { # name: a copy of the base database
  rm -f "$D/$1"*; cp "$D/base.db" "$D/$1"
}

spec() { # file source target [settings lines]
  cat > "$1" <<YAML
version: 1
name: bench
source: sqlite:$2
target: sqlite:$3
mappings:
  - from: accounts
    to: accounts_v2
    create: true
    columns:
      aid: aid
      bid: bid
      balance_cents: {expr: abalance * 100, type: INTEGER NOT NULL}
      filler: filler
    reverse:
      abalance: balance_cents / 100
${4:-}
YAML
}

# --- 1. backfill -------------------------------------------------------------
oneshot() { # same|two -> ms
  fresh src.db; rm -f "$D/tgt.db"*
  local t0; t0=$(date +%s%N)
  if [ "$1" = same ]; then
    sqlite3 "$D/src.db" "$DDL; INSERT INTO accounts_v2 $MAPPED" || die "one-shot failed"
  else
    sqlite3 "$D/tgt.db" "PRAGMA journal_mode=WAL; $DDL" >/dev/null
    sqlite3 "$D/src.db" "ATTACH '$D/tgt.db' AS t; INSERT INTO t.accounts_v2 $MAPPED" || die "one-shot failed"
  fi
  ms_since "$t0"
}

segue_backfill() { # same|two settings -> ms
  fresh src.db; rm -f "$D/tgt.db"*
  local tgt="$D/tgt.db"; [ "$1" = same ] && tgt="$D/src.db"
  spec "$D/m.yaml" "$D/src.db" "$tgt" "$2"
  $SEGUE start "$D/m.yaml" >/dev/null || die "segue start failed"
  local t0; t0=$(date +%s%N)
  $SEGUE backfill "$D/m.yaml" >/dev/null || die "segue backfill failed"
  local ms; ms=$(ms_since "$t0")
  local n; n=$(sqlite3 "$tgt" "SELECT count(*) FROM accounts_v2")
  [ "$n" = "$ROWS" ] || die "segue backfill copied $n rows, wanted $ROWS"
  echo "$ms"
}

bench_backfill() {
  echo "== backfill of $ROWS rows (median of $REPS, the methods taking turns; ratio = one-shot time / segue time)"
  printf '%-10s %-34s %9s %8s %7s\n' layout method ms rows/s ratio
  local layout base pause=$'backfill:\n  pause: 0ms'
  for layout in same two; do
    : > "$D/t.one"; : > "$D/t.def"; : > "$D/t.p0"
    for _ in $(seq "$REPS"); do   # in turns, so a noisy spell hits every method
      oneshot $layout >> "$D/t.one"
      segue_backfill $layout "" >> "$D/t.def"
      [ $layout = same ] && segue_backfill $layout "$pause" >> "$D/t.p0"  # pause is same-file only
    done
    base=$(median < "$D/t.one")
    printf '%-10s %-34s %9s %8s %7s\n' "$layout" "one-shot INSERT ... SELECT" "$base" \
      $((ROWS * 1000 / (base > 0 ? base : 1))) 1.00x
    local name f ms
    for name in "segue, defaults" "segue, backfill.pause 0"; do
      f=$D/t.def; [ "$name" = "segue, defaults" ] || f=$D/t.p0
      [ -s "$f" ] || continue
      ms=$(median < "$f")
      printf '%-10s %-34s %9s %8s %7s\n' "" "$name" "$ms" \
        $((ROWS * 1000 / (ms > 0 ? ms : 1))) "$(ratio "$base" "$ms")"
    done
  done
}

# what the application feels: its write latency while a backfill runs
bench_backfill_writer() {
  echo "== application writes (1000/s, busy_timeout 60 s) during a backfill with default settings"
  printf '%-10s %9s %9s %9s %10s %12s\n' layout p50_us p99_us max_us writes backfill_ms
  local layout
  for layout in same two; do
    fresh src.db; rm -f "$D/tgt.db"*
    local tgt="$D/tgt.db"; [ $layout = same ] && tgt="$D/src.db"
    spec "$D/m.yaml" "$D/src.db" "$tgt"
    $SEGUE start "$D/m.yaml" >/dev/null || die "segue start failed"
    $LOAD "$D/src.db" load 3 1000 > "$D/load.out" & local l=$!
    sleep 0.3
    local t0; t0=$(date +%s%N)
    $SEGUE backfill "$D/m.yaml" >/dev/null || die "segue backfill failed"
    local ms; ms=$(ms_since "$t0")
    wait $l || die "the application's writes failed during the backfill"
    local out; out=$(cat "$D/load.out")
    printf '%-10s %9s %9s %9s %10s %12s\n' $layout "$(echo "$out" | field p50_us)" \
      "$(echo "$out" | field p99_us)" "$(echo "$out" | field max_us)" \
      "$(echo "$out" | field ops)" "$ms"
  done
}

# --- 2. capture overhead -----------------------------------------------------
bench_capture() {
  local n=50000 off on busy w
  echo "== capture overhead: $n single-row UPDATEs by random key, autocommit, WAL, synchronous=NORMAL"
  fresh src.db
  spec "$D/m.yaml" "$D/src.db" "$D/src.db"
  off=$($LOAD "$D/src.db" latency $n) || die "load failed"
  $SEGUE start "$D/m.yaml" >/dev/null || die "segue start failed"
  $SEGUE backfill "$D/m.yaml" >/dev/null || die "segue backfill failed"
  on=$($LOAD "$D/src.db" latency $n) || die "load failed"
  $SEGUE run "$D/m.yaml" >/dev/null 2>&1 & w=$!
  busy=$($LOAD "$D/src.db" latency $n) || die "load failed"
  kill $w; wait $w 2>/dev/null
  printf '%-32s %8s %8s %8s %7s\n' capture p50_us p99_us mean_us "p50 ratio"
  local l
  for l in "off|$off" "on (triggers only)|$on" "on, worker draining|$busy"; do
    local line=${l#*|}
    printf '%-32s %8s %8s %8s %7s\n' "${l%%|*}" "$(echo "$line" | field p50_us)" \
      "$(echo "$line" | field p99_us)" "$(echo "$line" | field mean_us)" \
      "$(ratio "$(echo "$line" | field p50_us)" "$(echo "$off" | field p50_us)")"
  done
}

# --- 3. apply rate and lag ---------------------------------------------------
prepared() { # same|two -> a migration backfilled, no worker running
  fresh src.db; rm -f "$D/tgt.db"*
  local tgt="$D/tgt.db"; [ "$1" = same ] && tgt="$D/src.db"
  spec "$D/m.yaml" "$D/src.db" "$tgt" $'backfill:\n  pause: 0ms'
  $SEGUE start "$D/m.yaml" >/dev/null && $SEGUE backfill "$D/m.yaml" >/dev/null ||
    die "cannot prepare the migration"
}

pending() { $SEGUE status "$D/m.yaml" --json | jfield pending_changes; }

apply_live() { # layout rate
  prepared "$1"
  $SEGUE run "$D/m.yaml" >/dev/null 2>&1 & local w=$!
  : > "$D/lag"
  ( while :; do $SEGUE status "$D/m.yaml" --json | jfield lag_ms >> "$D/lag"; sleep 0.25; done ) &
  local sampler=$!
  local out; out=$($LOAD "$D/src.db" load "$SECS" "$2") || die "load failed"
  kill $sampler; wait $sampler 2>/dev/null
  local t0 p; t0=$(date +%s%N)
  while p=$(pending) && [ "${p:-1}" != 0 ] && [ "$(ms_since "$t0")" -lt 300000 ]; do sleep 0.05; done
  local catch; catch=$(ms_since "$t0")
  kill $w; wait $w 2>/dev/null
  local changes secs; changes=$(echo "$out" | field changes); secs=$(echo "$out" | field secs)
  local lag_p50 lag_max
  lag_p50=$(median < "$D/lag"); lag_max=$(sort -n "$D/lag" | tail -1)
  printf '%-6s %-10s %10s %12s %12s %9s %9s %10s\n' "$1" "${2/#0/max}" \
    "$(echo "$out" | field ops_per_sec)" \
    "$(awk -v c="$changes" -v s="$secs" 'BEGIN {printf "%.0f", c / s}')" \
    "$(awk -v c="$changes" -v s="$secs" -v k="$catch" 'BEGIN {printf "%.0f", c / (s + k / 1000)}')" \
    "${lag_p50:-0}" "${lag_max:-0}" "$catch"
}

apply_capacity() { # layout: a backlog drained with no writer
  prepared "$1"
  local out; out=$($LOAD "$D/src.db" load 5 0) || die "load failed"
  local n; n=$(pending)
  local t0; t0=$(date +%s%N)
  $SEGUE run "$D/m.yaml" --until caught-up >/dev/null || die "segue run failed"
  local ms; ms=$(ms_since "$t0")
  printf '%-6s backlog of %s changes drained in %s ms: %s changes/s\n' "$1" "$n" "$ms" \
    $((n * 1000 / (ms > 0 ? ms : 1)))
}

bench_apply() {
  echo "== apply: a writer (70% update, 15% insert, 10% delete, 5% key change) for ${SECS}s while \`segue run\` drains"
  printf '%-6s %-10s %10s %12s %12s %9s %9s %10s\n' layout rate writer_op/s changes/s applied/s \
    lag_p50ms lag_maxms catchup_ms
  local layout rate
  for layout in same two; do
    for rate in 1000 5000 0; do apply_live $layout $rate; done
  done
  echo "== apply capacity (no writer while draining)"
  for layout in same two; do apply_capacity $layout; done
}

bench_shadow_api() {
  local api; api=$(dirname "$LOAD")/shadow_api
  [ -x "$api" ] || die "build first: make (no $api)"
  echo "== C API: a shadowed point read vs the two plain reads (20000 keys x $((REPS * 2 + 1)) rounds, median)"
  fresh src.db; rm -f "$D/tgt.db"*
  cat > "$D/api.yaml" <<YAML
version: 1
name: shapi
source: sqlite:$D/src.db
target: sqlite:$D/tgt.db
mappings:
  - from: accounts
    to: accounts_v2
    create: true
    columns: {id: aid, branch: bid, balance: abalance, pad: filler}
YAML
  $SEGUE start "$D/api.yaml" >/dev/null && $SEGUE backfill "$D/api.yaml" >/dev/null 2>&1 &&
    $SEGUE run "$D/api.yaml" --until caught-up >/dev/null 2>&1 || die "segue start/backfill"
  "$api" "$D/api.yaml" accounts "sqlite:$D/src.db" \
    'SELECT aid, bid, abalance, filler FROM accounts WHERE aid = ?1' "sqlite:$D/tgt.db" \
    'SELECT id, branch, balance, pad FROM accounts_v2 WHERE id = ?1' "$ROWS" 20000 \
    $((REPS * 2 + 1)) | sed 's/^/  /' || die "shadow_api"
}

[ -x "$SEGUE" ] && [ -x "$LOAD" ] || die "build first: make"
echo "segue bench: $(nproc) cores, sqlite $(sqlite3 --version | cut -d' ' -f1), $(date -u +%FT%TZ)"
# BENCH_ONLY="backfill backfill_writer capture apply shadow_api" runs those parts
only() { [ -z "${BENCH_ONLY:-}" ] || [[ " $BENCH_ONLY " == *" $1 "* ]]; }
make_base
# (if, not &&: a part left out must not become the script's exit status)
if only backfill; then bench_backfill; fi
if only backfill_writer; then bench_backfill_writer; fi
if only capture; then bench_capture; fi
if only apply; then bench_apply; fi
if only shadow_api; then bench_shadow_api; fi
