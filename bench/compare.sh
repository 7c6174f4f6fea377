#!/usr/bin/env bash
# What a change costs: the same work done by two segue binaries, runs
# alternating (A, B, A, B, ...) on fresh copies, medians side by side.
#
#   bench/compare.sh REV        # REV built in a temporary worktree vs this tree
#   SEGUE_A=old/segue SEGUE_B=build/segue bench/compare.sh
#
# Figures: SQLite backfill of BENCH_ROWS rows across two files; SQLite apply
# of a backlog of single-row updates; PostgreSQL same-database backfill at
# BENCH_PG_SCALE; PostgreSQL apply of a pgbench backlog; pgbench TPS with
# capture on (BENCH_CAPTURE_REPS runs of BENCH_SECS each per side). The
# pgbench backlog runs BENCH_BACKLOG_SECS (5): longer ones weigh process
# start-up less in the apply rate.
# BENCH_COMPARE_ONLY="sqlite" (or "pg") runs one half.
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh
. tests/lib/pg.sh
ROWS=${BENCH_ROWS:-1000000}
SCALE=${BENCH_PG_SCALE:-10}
REPS=${BENCH_REPS:-3}
CAPTURE_REPS=${BENCH_CAPTURE_REPS:-5}
SECS=${BENCH_SECS:-10}
BACKLOG_SECS=${BENCH_BACKLOG_SECS:-5}
D=$(mktemp -d /tmp/segue-compare-XXXXXX)
chmod 777 "$D"
WT=
trap 'kill $(jobs -p) 2>/dev/null; pg_stop; [ -n "$WT" ] && git worktree remove --force "$WT"; rm -rf "$D"' EXIT

if [ -n "${1:-}" ]; then
  WT=$D/base
  git worktree add -q --detach "$WT" "$1" || die "no revision $1"
  make -s -C "$WT" -j2 build/segue >/dev/null || die "cannot build $1"
  SEGUE_A=$WT/build/segue
fi
A=${SEGUE_A:?give a revision, or SEGUE_A and SEGUE_B}
B=${SEGUE_B:-build/segue}
[ -x "$A" ] && [ -x "$B" ] || die "build first: $A and $B"

# alternate reps fn: runs fn A and fn B in turns, A first in odd reps and
# B first in even ones (ABBA: whoever runs second does not always inherit
# the first one's checkpoints and caches); prints "median-of-A median-of-B"
alternate() {
  local reps=$1 fn=$2 r
  : > "$D/a"; : > "$D/b"
  for r in $(seq "$reps"); do
    if [ $((r % 2)) = 1 ]; then "$fn" "$A" >> "$D/a"; "$fn" "$B" >> "$D/b"
    else "$fn" "$B" >> "$D/b"; "$fn" "$A" >> "$D/a"; fi
  done
  echo "$(median < "$D/a") $(median < "$D/b")"
}
report() { # what unit "a b"
  local what=$1 unit=$2
  set -- $3
  printf '  %-44s A %8s %s   B %8s %s   B/A %s\n' "$what" "$1" "$unit" "$2" "$unit" "$(ratio "$2" "$1")"
}

# --- SQLite ------------------------------------------------------------------
sqlite_base() {
sqlite3 "$D/base.db" "PRAGMA journal_mode=WAL;
  CREATE TABLE accounts (aid INTEGER PRIMARY KEY, bid INTEGER NOT NULL, abalance INTEGER NOT NULL, filler TEXT);
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS)
  INSERT INTO accounts SELECT i, (i - 1) / 100000 + 1, i % 1000, printf('%-84s', 'row ' || i) FROM n;
  PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null || die "cannot build the table"
}
sq_spec() {
  printf 'version: 1\nname: cmp\nsource: sqlite:%s\ntarget: sqlite:%s\nmappings:\n  - from: accounts\n    to: accounts_v2\n    create: true\n' \
    "$D/s.db" "$D/t.db" > "$D/s.yaml"
}
sq_backfill() { # segue -> ms
  rm -f "$D"/s.db* "$D"/t.db*; cp "$D/base.db" "$D/s.db"; sq_spec
  "$1" start "$D/s.yaml" >/dev/null || die "start"
  timed "$1" backfill "$D/s.yaml"
}
sq_drain() { # segue -> applied changes per second
  sq_backfill "$1" >/dev/null
  for i in $(seq 0 499); do echo "UPDATE accounts SET abalance = abalance + 1 WHERE aid BETWEEN $((i * 2000 + 1)) AND $((i * 2000 + 100));"; done |
    sqlite3 "$D/s.db" >/dev/null
  local ms; ms=$(timed "$1" run "$D/s.yaml" --until caught-up)
  awk -v t="$ms" 'BEGIN {printf "%.0f", 50000 * 1000 / t}'; echo
}
sqlite_part() {
  sqlite_base
  echo "== SQLite ($ROWS rows; medians of $REPS, alternating)"
  report "backfill across two files" ms "$(alternate "$REPS" sq_backfill)"
  report "apply of 50000 changed rows" rows/s "$(alternate "$REPS" sq_drain)"
}

# --- PostgreSQL ------------------------------------------------------------------
uri() { echo "postgresql://postgres@127.0.0.1:$PG_PORT/$1"; }
sql() { psql -XAtq "$(uri "$1")" -c "$2"; }
fresh() { sql postgres "DROP DATABASE IF EXISTS $1" >/dev/null 2>&1; sql postgres "CREATE DATABASE $1 TEMPLATE base" >/dev/null; }
pg_spec() {
  printf 'version: 1\nname: cmp\nsource: %s\ntarget: %s\nmappings:\n  - from: pgbench_accounts\n    to: accounts_v2\n    create: true\n' \
    "$(uri p)" "$(uri p)" > "$D/p.yaml"
}
pg_backfill() { # segue -> ms
  fresh p; sql p CHECKPOINT; pg_spec
  "$1" start "$D/p.yaml" >/dev/null || die "start"
  timed "$1" backfill "$D/p.yaml"
}
pg_drain() { # segue -> applied changes per second
  pg_backfill "$1" >/dev/null
  "$PG_BIN/pgbench" -n -c 4 -j 2 -T "$BACKLOG_SECS" "$(uri p)" >/dev/null 2>&1
  local n; n=$(sql p "SELECT count(*) FROM pgbench_history")
  local ms; ms=$(timed "$1" run "$D/p.yaml" --until caught-up)
  awk -v n="$n" -v t="$ms" 'BEGIN {printf "%.0f", n * 1000 / t}'; echo
}
pg_tps() { # segue -> pgbench tps with capture on
  fresh p; pg_spec
  "$1" start "$D/p.yaml" >/dev/null || die "start"
  "$PG_BIN/pgbench" -n -c 4 -j 2 -T "$SECS" "$(uri p)" 2>&1 | sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
pg_part() {
  pg_start >/dev/null || die "cannot start PostgreSQL"
  sql postgres "CREATE DATABASE base" >/dev/null
  "$PG_BIN/pgbench" -i -q -s "$SCALE" "$(uri base)" >/dev/null 2>&1 || die "pgbench -i"
  echo "== PostgreSQL (pgbench scale $SCALE; medians, alternating)"
  report "same-database backfill" ms "$(alternate "$REPS" pg_backfill)"
  report "apply of a pgbench backlog" rows/s "$(alternate "$REPS" pg_drain)"
  report "pgbench TPS, capture on ($CAPTURE_REPS runs)" tps "$(alternate "$CAPTURE_REPS" pg_tps)"
}

echo "== A: $A"
echo "== B: $B"
for part in ${BENCH_COMPARE_ONLY:-sqlite pg}; do "${part}_part"; done
