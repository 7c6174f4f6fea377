#!/usr/bin/env bash
# PostgreSQL benchmarks for segue, one run on a private server (tests/lib/pg.sh),
# each figure beside the command a PostgreSQL user would use instead:
#   1. same-database backfill of pgbench_accounts vs one-shot INSERT ... SELECT;
#   2. into another database vs a COPY pipe and vs pgcopydb;
#   3. capture overhead: pgbench TPS and latency, and a 500k-row UPDATE;
#   4. apply rate against pgbench's write rate, and lag; apply's ceiling when
#      it catches up (per-key entries, and a 500k-row statement entry);
#   4c. (BENCH_PG_ONLY=heartbeat) that ceiling with the heartbeat and
#      reconciliation on vs off;
#   4e. (BENCH_PG_ONLY=recon_steady) pgbench TPS beside a caught-up worker,
#      reconciliation on vs off;
#   4d. (BENCH_PG_ONLY=verify_speed) verify's rows/s against the in-engine
#      floor, sum(hashtext(t::text)) on both sides at once;
#   5. peak RSS of segue on the cross-database move;
#   6. SQLite -> PostgreSQL (the same rows in a SQLite file) vs pgloader;
#   7. (BENCH_PG_ONLY=index_after) secondary indexes built after the backfill
#      vs present during it;
#   8. (BENCH_PG_ONLY=whole) whole Chinook and Pagila (mappings: all) vs
#      pgloader and pg_dump | pg_restore;
#   9. (BENCH_PG_ONLY=shadow) segue shadow's replay rate of a pgbench -S
#      jsonlog against pgbench -S's own rate (BENCH_SHADOW_TX per client);
#  10. (BENCH_PG_ONLY=shadow_api) the C API's shadowed point read
#      (sg_shadow_key) against the two plain reads, into another database;
#  11. (BENCH_PG_ONLY=drills) BENCH_DRILLS (20) rollback drills with the
#      writes under pgbench: the time from the failure to the rollback and
#      to the C API's router, and the write fence, against the aim and
#      against `segue rollback` typed by hand;
#  12. (BENCH_PG_ONLY=ryw_api) a read with read-your-writes per key
#      (sg_router_read_side_row) against the routing alone.
# BENCH_PG_SCALE (default 50: 5M rows), BENCH_REPS (3), BENCH_CAPTURE_REPS
# (5, the pgbench TPS runs with capture off and on), BENCH_SECS (10);
# BENCH_PG_ONLY="from_sqlite apply" runs only those parts.
set -u
cd "$(dirname "$0")/.." || exit 1
. bench/lib.sh
. tests/lib/pg.sh
SEGUE=${SEGUE:-build/segue}
SCALE=${BENCH_PG_SCALE:-50}
REPS=${BENCH_REPS:-3}
# pgbench TPS on this 2-core machine moves by +-15% between single runs,
# more than capture costs: more runs for that figure
CAPTURE_REPS=${BENCH_CAPTURE_REPS:-5}
SECS=${BENCH_SECS:-10}
ROWS=$((SCALE * 100000))
D=$(mktemp -d /tmp/segue-pgbench-XXXXXX)
chmod 777 "$D"
trap 'kill $(jobs -p) 2>/dev/null; pg_stop; rm -rf "$D"' EXIT

uri() { echo "postgresql://postgres@127.0.0.1:$PG_PORT/$1"; }
sql() { psql -XAtq "$(uri "$1")" -c "$2"; }
fresh() { # a copy of the pgbench database `base`
  sql postgres "DROP DATABASE IF EXISTS $1" >/dev/null 2>&1
  sql postgres "CREATE DATABASE $1 TEMPLATE base" >/dev/null
}
blank() { # an empty database holding pgbench_accounts' definition only
  sql postgres "DROP DATABASE IF EXISTS $1" >/dev/null 2>&1
  sql postgres "CREATE DATABASE $1" >/dev/null
}
ACCOUNTS_DDL='CREATE TABLE pgbench_accounts (aid integer PRIMARY KEY, bid integer, abalance integer, filler character(84))'

spec() { # file source target to [create]
  printf 'version: 1\nname: bench\nsource: %s\ntarget: %s\nmappings:\n  - from: pgbench_accounts\n    to: %s\n    create: %s\n' \
    "$1" "$2" "$3" "${4:-true}"
}

# --- 1. same database ----------------------------------------------------------
same_db() {
  echo "== same-database backfill of pgbench_accounts ($ROWS rows; median of $REPS)"
  local base segue r
  base=$(for r in $(seq "$REPS"); do fresh s; sql s CHECKPOINT
    timed psql -Xq "$(uri s)" -c "CREATE TABLE accounts_v2 (aid integer PRIMARY KEY, bid integer,
      abalance integer, filler character(84)); INSERT INTO accounts_v2 SELECT * FROM pgbench_accounts"
  done | median)
  segue=$(for r in $(seq "$REPS"); do fresh s; sql s CHECKPOINT
    spec "$(uri s)" "$(uri s)" accounts_v2 > "$D/m.yaml"
    $SEGUE start "$D/m.yaml" >/dev/null || die "segue start"
    timed $SEGUE backfill "$D/m.yaml"
  done | median)
  printf '  one-shot INSERT ... SELECT %8s ms\n  segue backfill             %8s ms   %s\n' \
    "$base" "$segue" "$(ratio "$base" "$segue")"
}

# --- 2. another database -------------------------------------------------------
other_db() {
  echo "== into another database ($ROWS rows; median of $REPS)"
  local pipe copydb segue rss r
  pipe=$(for r in $(seq "$REPS"); do fresh s; blank t; sql t "$ACCOUNTS_DDL"
    timed bash -c "psql -Xq '$(uri s)' -c 'COPY pgbench_accounts TO STDOUT' |
                   psql -Xq '$(uri t)' -c 'COPY pgbench_accounts FROM STDIN'"
  done | median)
  if command -v pgcopydb >/dev/null; then
    copydb=$(for r in $(seq "$REPS"); do fresh s; blank t; sql t "$ACCOUNTS_DDL"
      printf '[include-only-table]\npublic.pgbench_accounts\n' > "$D/filters"
      rm -rf "$D/copydb"
      timed pgcopydb copy table-data --source "$(uri s)" --target "$(uri t)" \
        --filters "$D/filters" --dir "$D/copydb" --table-jobs 2
    done | median)
  fi
  segue=$(for r in $(seq "$REPS"); do fresh s; blank t
    spec "$(uri s)" "$(uri t)" pgbench_accounts > "$D/m.yaml"
    $SEGUE start "$D/m.yaml" >/dev/null || die "segue start"
    /usr/bin/time -f "%M" -o "$D/rss" $SEGUE backfill "$D/m.yaml" >/dev/null 2>&1 &
    local t0; t0=$(date +%s%N); wait $! || die "segue backfill"
    ms_since "$t0"
  done | median)
  rss=$(cat "$D/rss")
  printf '  COPY ... TO STDOUT | COPY ... FROM STDIN %8s ms\n' "$pipe"
  [ -n "${copydb:-}" ] && printf '  pgcopydb copy table-data               %8s ms\n' "$copydb"
  printf '  segue backfill                         %8s ms   %s of the pipe%s\n' "$segue" \
    "$(ratio "$pipe" "$segue")" "${copydb:+, $(ratio "$copydb" "$segue") of pgcopydb}"
  printf '  segue peak RSS                         %8s KB (for %s rows)\n' "$rss" "$ROWS"
}

# --- 3. capture overhead -------------------------------------------------------
tps() { # database -> "tps p50? avg_ms"
  "$PG_BIN/pgbench" -n -c 4 -j 2 -T "$SECS" "$(uri "$1")" 2>&1 |
    awk '/^latency average/ {l = $4} /^tps/ {t = $3} END {printf "%.0f %s\n", t, l}'
}

# a fresh copy of the pgbench database, capture on or off, checkpointed: each
# measured run gets its own, so no run pays for another's dead rows and
# checkpoint (a second pgbench run on one copy swung the TPS ratio from
# 0.75x to 1.06x)
fresh_capture() { # database on|off
  fresh "$1"
  if [ "$2" = on ]; then
    spec "$(uri "$1")" "$(uri "$1")" accounts_v2 > "$D/$1.yaml"
    $SEGUE start "$D/$1.yaml" >/dev/null || die "segue start"
  fi
  sql "$1" CHECKPOINT
}

update_ms() { # on|off -> ms of a 500k-row UPDATE
  fresh_capture u "$1"
  timed psql -Xq "$(uri u)" -c "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid <= 500000"
}

tps_fresh() { # on|off -> "tps latency_ms"
  fresh_capture c "$1"
  tps c
}

capture() {
  echo "== capture overhead (pgbench TPC-B, 4 clients, ${SECS}s each, off and on alternating on fresh copies; 500k-row UPDATE, median of $REPS)"
  local off on upd_off upd_on r
  for r in $(seq "$CAPTURE_REPS"); do tps_fresh off >> "$D/tps_off"; tps_fresh on >> "$D/tps_on"; done
  off=$(sort -n "$D/tps_off" | awk '{a[NR] = $0} END {print a[int((NR + 1) / 2)]}')
  on=$(sort -n "$D/tps_on" | awk '{a[NR] = $0} END {print a[int((NR + 1) / 2)]}')
  local spread; spread=$(sort -n "$D/tps_off" | awk 'NR == 1 {a = $1} {b = $1} END {printf "%s-%s", a, b}')
  spread="off $spread, on $(sort -n "$D/tps_on" | awk 'NR == 1 {a = $1} {b = $1} END {printf "%s-%s", a, b}')"
  rm -f "$D/tps_off" "$D/tps_on"
  upd_off=$(for r in $(seq "$REPS"); do update_ms off; done | median)
  upd_on=$(for r in $(seq "$REPS"); do update_ms on; done | median)
  printf '  capture off: %6s tps, latency %s ms\n  capture on:  %6s tps, latency %s ms   TPS %s of off\n' \
    ${off} ${on} "$(ratio "${on%% *}" "${off%% *}")"
  printf '  (medians of %s runs each; tps of single runs: %s)\n' "$CAPTURE_REPS" "$spread"
  printf '  500k-row UPDATE: off %s ms, on %s ms   (%s slower)\n' "$upd_off" "$upd_on" \
    "$(ratio "$upd_on" "$upd_off")"
}

# --- 4. apply rate and lag -----------------------------------------------------
apply() {
  echo "== apply while pgbench writes (4 clients, ${SECS}s), same database"
  fresh a
  spec "$(uri a)" "$(uri a)" accounts_v2 > "$D/m.yaml"
  $SEGUE start "$D/m.yaml" >/dev/null && $SEGUE backfill "$D/m.yaml" >/dev/null || die "prepare"
  $SEGUE run "$D/m.yaml" >/dev/null 2>&1 & local w=$!
  : > "$D/lag"
  ( while :; do $SEGUE status "$D/m.yaml" --json | jfield lag_ms >> "$D/lag"; sleep 0.25; done ) &
  local sampler=$!
  local before; before=$(sql a "SELECT count(*) FROM pgbench_history")
  local out; out=$("$PG_BIN/pgbench" -n -c 4 -j 2 -T "$SECS" "$(uri a)" 2>&1)
  kill $sampler; wait $sampler 2>/dev/null
  local t0 p; t0=$(date +%s%N)
  while p=$($SEGUE status "$D/m.yaml" --json | jfield pending_changes) && [ "${p:-1}" != 0 ]; do sleep 0.05; done
  local catch; catch=$(ms_since "$t0")
  kill $w; wait $w 2>/dev/null
  local writes; writes=$(( $(sql a "SELECT count(*) FROM pgbench_history") - before ))
  printf '  pgbench: %s account updates in %ss (%s/s); applied %s/s; lag p50 %s ms, max %s ms; caught up %s ms after\n' \
    "$writes" "$SECS" $((writes / SECS)) \
    "$(awk -v n="$writes" -v s="$SECS" -v c="$catch" 'BEGIN {printf "%.0f", n / (s + c / 1000)}')" \
    "$(median < "$D/lag")" "$(sort -n "$D/lag" | tail -1)" "$catch"
  echo "$out" | grep -q "number of failed transactions: 0 " || echo "  (pgbench reported failures)"
}

# --- 4b. apply ceiling -----------------------------------------------------------
# pgbench writes while no worker runs, then the worker catches up: how fast
# apply goes when it is not waiting for writes (per-key changelog entries),
# and on one 500k-row UPDATE (a statement entry)
drain() {
  echo "== apply ceiling: catching up after pgbench (4 clients, ${SECS}s) and a 500k-row UPDATE"
  local mode tgt to out n ms upd
  for mode in same other; do
    fresh d; blank dt
    if [ $mode = same ]; then tgt=$(uri d); to=accounts_v2; else tgt=$(uri dt); to=pgbench_accounts; fi
    spec "$(uri d)" "$tgt" "$to" > "$D/d.yaml"
    $SEGUE start "$D/d.yaml" >/dev/null && $SEGUE backfill "$D/d.yaml" >/dev/null || die "prepare"
    out=$("$PG_BIN/pgbench" -n -c 4 -j 2 -T "$SECS" "$(uri d)" 2>&1)
    n=$(sql d "SELECT count(*) FROM pgbench_history")
    ms=$(timed $SEGUE run "$D/d.yaml" --until caught-up)
    sql d "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid <= 500000"
    upd=$(timed $SEGUE run "$D/d.yaml" --until caught-up)
    $SEGUE verify "$D/d.yaml" >/dev/null || die "verify after the drain ($mode database)"
    printf '  %-5s database: %s pgbench updates (%s/s written) applied in %s ms = %s/s; 500k-row UPDATE applied in %s ms = %s keys/s\n' \
      "$mode" "$n" $((n / SECS)) "$ms" "$(awk -v n="$n" -v t="$ms" 'BEGIN {printf "%.0f", n * 1000 / t}')" \
      "$upd" "$(awk -v t="$upd" 'BEGIN {printf "%.0f", 500000 * 1000 / t}')"
  done
}

# --- 4c. apply with the heartbeat and reconciliation ---------------------------
# the apply ceiling of 4b into another database, the worker (`segue run`)
# timed from its start until nothing is pending: with worker.heartbeat: 0
# and no reconciliation, against the default heartbeat (1s) and a
# background verify pass every second (capped at BENCH_RECON_RATE rows/s a
# side); the two alternate, medians of REPS
caught_up() { # spec: pending_changes is 0
  [ "$($SEGUE status "$1" --json | jfield pending_changes)" = 0 ]
}
drain_with() { # off|heartbeat|on|none|gates -> "updates ms"
  fresh h; blank ht
  spec "$(uri h)" "$(uri ht)" pgbench_accounts > "$D/h.yaml"
  case $1 in
    off) printf 'worker: {heartbeat: 0}\n' >> "$D/h.yaml" ;;
    on) printf 'verify: {every: 1s, max_rows_per_second: %s}\n' "${BENCH_RECON_RATE:-200000}" >> "$D/h.yaml" ;;
    gates) printf 'cutover:\n  auto: true\n  reads:\n    - {pct: 1, hold: 1h}\ngates:\n  interval: 1s\n  checks:\n    heartbeat_lag: {max: 1h}\n    error_rate: {max: 0.01}\n' >> "$D/h.yaml" ;;
  esac
  $SEGUE start "$D/h.yaml" >/dev/null && $SEGUE backfill "$D/h.yaml" >/dev/null || die "prepare"
  # the rollout evaluates from verified on: both sides of that pair verify
  case $1 in none|gates) $SEGUE verify "$D/h.yaml" >/dev/null || die "verify" ;; esac
  "$PG_BIN/pgbench" -n -c 4 -j 2 -T "$SECS" "$(uri h)" >/dev/null 2>&1 || die "pgbench"
  local n t0 w; n=$(sql h "SELECT count(*) FROM pgbench_history")
  t0=$(date +%s%N)
  $SEGUE run "$D/h.yaml" > "$D/h.log" 2>&1 & w=$!
  until caught_up "$D/h.yaml"; do sleep 0.05; done
  local ms; ms=$(ms_since "$t0")
  kill $w; wait $w 2>/dev/null
  echo "$n $ms"
}
heartbeat() {
  echo "== apply ceiling into another database: both off, the heartbeat alone, the heartbeat and reconciliation (${SECS}s of pgbench, 4 clients)"
  local i mode out
  : > "$D/hb.off"; : > "$D/hb.heartbeat"; : > "$D/hb.on"
  for i in $(seq "$REPS"); do
    for mode in off heartbeat on; do
      out=$(drain_with $mode)
      awk -v n="${out% *}" -v t="${out#* }" 'BEGIN {printf "%.0f\n", n * 1000 / t}' >> "$D/hb.$mode"
    done
  done
  local off; off=$(median < "$D/hb.off")
  for mode in off heartbeat on; do
    printf '  %-9s %s updates/s applied (runs: %s); /off %s\n' "$mode" "$(median < "$D/hb.$mode")" \
      "$(tr '\n' ' ' < "$D/hb.$mode" | sed 's/ $//')" "$(ratio "$(median < "$D/hb.$mode")" "$off")"
  done
}

# --- 4f. the rollout's gates beside the apply -----------------------------------
# (BENCH_PG_ONLY=gates_apply) the apply ceiling after SECS of pgbench with the
# rollout's checks evaluated and recorded every second (cutover.reads with
# auto, gates.interval 1s, heartbeat_lag and error_rate beside the default
# checks; the lag holds the first step back, so no read moves) vs a spec
# without steps (drain_with gates, none); both verified first, alternating;
# medians of REPS
gates_apply() {
  echo "== apply ceiling into another database with the rollout's gates evaluated every second vs none (${SECS}s of pgbench, 4 clients)"
  local i mode out
  : > "$D/ga.none"; : > "$D/ga.gates"
  for i in $(seq "$REPS"); do
    for mode in none gates; do
      out=$(drain_with $mode)
      awk -v n="${out% *}" -v t="${out#* }" 'BEGIN {printf "%.0f\n", n * 1000 / t}' >> "$D/ga.$mode"
    done
  done
  local none gates; none=$(median < "$D/ga.none"); gates=$(median < "$D/ga.gates")
  printf '  none  %s updates/s applied (runs: %s)\n  gates %s updates/s applied (runs: %s); gates/none %s\n' \
    "$none" "$(tr '\n' ' ' < "$D/ga.none" | sed 's/ $//')" "$gates" \
    "$(tr '\n' ' ' < "$D/ga.gates" | sed 's/ $//')" "$(ratio "$gates" "$none")"
}

# --- 4e. reconciliation beside a caught-up worker ------------------------------
# (BENCH_PG_ONLY=recon_steady) pgbench TPS (4 clients, SECS) while a worker
# keeps up with it, reconciliation (every 1 s, BENCH_RECON_RATE rows/s) on
# and off, alternating; medians of REPS, and the passes the run recorded
steady_with() { # off|on -> "tps passes"
  fresh r; blank rt
  spec "$(uri r)" "$(uri rt)" pgbench_accounts > "$D/r.yaml"
  [ "$1" = on ] && printf 'verify: {every: 1s, max_rows_per_second: %s}\n' "${BENCH_RECON_RATE:-200000}" >> "$D/r.yaml"
  $SEGUE start "$D/r.yaml" >/dev/null && $SEGUE backfill "$D/r.yaml" >/dev/null || die "prepare"
  local w tps; $SEGUE run "$D/r.yaml" > "$D/r.log" 2>&1 & w=$!
  until caught_up "$D/r.yaml"; do sleep 0.05; done
  tps=$("$PG_BIN/pgbench" -n -c 4 -j 2 -T "$SECS" "$(uri r)" 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
  kill $w; wait $w 2>/dev/null
  echo "${tps:-0} $(grep -c 'reconciliation: a full pass' "$D/r.log")"
}
recon_steady() {
  echo "== pgbench beside a caught-up worker into another database, reconciliation off and on (${SECS}s, 4 clients, cap ${BENCH_RECON_RATE:-200000} rows/s)"
  local i mode out
  : > "$D/rs.off"; : > "$D/rs.on"; : > "$D/rs.passes"
  for i in $(seq "$REPS"); do
    for mode in off on; do
      out=$(steady_with $mode)
      echo "${out% *}" >> "$D/rs.$mode"
      [ $mode = on ] && echo "${out#* }" >> "$D/rs.passes"
    done
  done
  local off on; off=$(median < "$D/rs.off"); on=$(median < "$D/rs.on")
  printf '  off %s TPS (runs: %s); on %s TPS (runs: %s; full passes per run: %s); on/off %s\n' \
    "$off" "$(tr '\n' ' ' < "$D/rs.off" | sed 's/ $//')" "$on" "$(tr '\n' ' ' < "$D/rs.on" | sed 's/ $//')" \
    "$(tr '\n' ' ' < "$D/rs.passes" | sed 's/ $//')" "$(ratio "$on" "$off")"
}

# --- 4d. verify speed ----------------------------------------------------------
# `segue verify` of the whole table moved into another database, against the
# in-engine floor: sum(hashtext(t::text)) over each side's table, both sides
# at once; alternating, medians of REPS
floor_ms() {
  local t0; t0=$(date +%s%N)
  sql v "SELECT sum(hashtext(t::text)) FROM pgbench_accounts t" >/dev/null &
  sql vt "SELECT sum(hashtext(t::text)) FROM pgbench_accounts t" >/dev/null &
  wait
  ms_since "$t0"
}
verify_speed() {
  echo "== verify of $ROWS rows in another database vs sum(hashtext(t::text)) on both sides at once"
  fresh v; blank vt
  spec "$(uri v)" "$(uri vt)" pgbench_accounts > "$D/v.yaml"
  $SEGUE start "$D/v.yaml" >/dev/null && $SEGUE backfill "$D/v.yaml" >/dev/null || die "prepare"
  : > "$D/v.segue"; : > "$D/v.floor"; : > "$D/v.before"
  local i
  for i in $(seq "$REPS"); do
    timed $SEGUE verify "$D/v.yaml" >> "$D/v.segue"
    floor_ms >> "$D/v.floor"
    # BENCH_VERIFY_BEFORE: another segue binary (an older build) beside it
    [ -z "${BENCH_VERIFY_BEFORE:-}" ] || timed "$BENCH_VERIFY_BEFORE" verify "$D/v.yaml" >> "$D/v.before"
  done
  [ -z "${BENCH_VERIFY_BEFORE:-}" ] ||
    printf '  %s verify: %s ms (runs: %s)\n' "$BENCH_VERIFY_BEFORE" "$(median < "$D/v.before")" \
      "$(tr '\n' ' ' < "$D/v.before" | sed 's/ $//')"
  local sv fl; sv=$(median < "$D/v.segue"); fl=$(median < "$D/v.floor")
  printf '  segue verify %s ms (%s rows/s; runs: %s); floor %s ms (runs: %s); segue/floor speed %s\n' \
    "$sv" "$(awk -v n="$ROWS" -v t="$sv" 'BEGIN {printf "%.0f", n * 1000 / t}')" \
    "$(tr '\n' ' ' < "$D/v.segue" | sed 's/ $//')" "$fl" "$(tr '\n' ' ' < "$D/v.floor" | sed 's/ $//')" \
    "$(ratio "$fl" "$sv")"
}

# --- 6. SQLite -> PostgreSQL ---------------------------------------------------
from_sqlite() {
  echo "== SQLite file -> PostgreSQL ($ROWS rows of pgbench_accounts; median of $REPS)"
  local db=$D/accounts.db loader segue r
  sqlite3 "$db" "CREATE TABLE pgbench_accounts (aid INTEGER PRIMARY KEY, bid INTEGER,
      abalance INTEGER, filler CHAR(84));
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS)
    INSERT INTO pgbench_accounts SELECT i, (i - 1) / 100000 + 1, 0, printf('%84s', '') FROM n" ||
    die "cannot build the SQLite file"
  if command -v pgloader >/dev/null; then
    loader=$(for r in $(seq "$REPS"); do blank t; sql t CHECKPOINT
      timed pgloader --quiet "sqlite://$db" "$(uri t)"
      [ "$(sql t "SELECT count(*) FROM pgbench_accounts")" = "$ROWS" ] || die "pgloader did not load every row"
    done | median)
  fi
  segue=$(for r in $(seq "$REPS"); do blank t; sql t CHECKPOINT
    spec "sqlite:$db" "$(uri t)" pgbench_accounts > "$D/m.yaml"
    $SEGUE start "$D/m.yaml" >/dev/null || die "segue start"
    timed $SEGUE backfill "$D/m.yaml"
    [ "$(sql t "SELECT count(*) FROM pgbench_accounts")" = "$ROWS" ] || die "segue did not copy every row"
    $SEGUE abort "$D/m.yaml" >/dev/null 2>&1
  done | median)
  [ -n "${loader:-}" ] && printf '  pgloader                               %8s ms
' "$loader"
  printf '  segue backfill                         %8s ms%s
' "$segue" \
    "${loader:+   $(ratio "$loader" "$segue") faster than pgloader}"
}

# --- 7. secondary indexes: built after the backfill vs present during it ------
# (not in the default run; BENCH_PG_ONLY=index_after) pgbench_accounts with
# two secondary indexes into another database: segue's create: true builds
# them after the copy (CREATE INDEX CONCURRENTLY), against a target made by
# hand with the indexes (create: false), which the copy maintains row by row.
# The two take turns; backfill wall time, index builds included.
index_after() {
  echo "== backfill into another database with two secondary indexes ($ROWS rows; median of $REPS, in turns)"
  echo "   (bid: 50 values in key order; abalance: random, as balances are once pgbench has run)"
  local idx="CREATE INDEX acc_bid ON pgbench_accounts (bid); CREATE INDEX acc_bal ON pgbench_accounts (abalance)"
  local r mode ms
  sql postgres "DROP DATABASE IF EXISTS base_bal" >/dev/null 2>&1
  sql postgres "CREATE DATABASE base_bal TEMPLATE base" >/dev/null
  sql base_bal "UPDATE pgbench_accounts SET abalance = (random() * 1000000)::int" >/dev/null
  sql base_bal "VACUUM ANALYZE pgbench_accounts" >/dev/null
  : > "$D/after"; : > "$D/during"
  for r in $(seq "$REPS"); do
    for mode in after during; do
      sql postgres "DROP DATABASE IF EXISTS s" >/dev/null 2>&1
      sql postgres "CREATE DATABASE s TEMPLATE base_bal" >/dev/null
      sql s "$idx" >/dev/null; blank t
      if [ $mode = during ]; then sql t "$ACCOUNTS_DDL; $idx" >/dev/null; fi
      spec "$(uri s)" "$(uri t)" pgbench_accounts "$([ $mode = after ] && echo true || echo false)" > "$D/m.yaml"
      sql t CHECKPOINT
      $SEGUE start "$D/m.yaml" >/dev/null || die "segue start"
      ms=$(timed $SEGUE backfill "$D/m.yaml")
      [ "$(sql t "SELECT count(*) FROM pg_indexes WHERE tablename = 'pgbench_accounts'")" = 3 ] ||
        die "the target lacks an index ($mode)"
      echo "$ms" >> "$D/$mode"
      $SEGUE abort "$D/m.yaml" >/dev/null 2>&1
    done
  done
  local after during; after=$(median < "$D/after"); during=$(median < "$D/during")
  printf '  indexes present during the copy        %8s ms
  built after the copy (create: true)    %8s ms   %s faster
' \
    "$during" "$after" "$(ratio "$during" "$after")"
}

# --- 8. whole databases: mappings: all --------------------------------------
# (not in the default run; BENCH_PG_ONLY=whole) Chinook's SQLite file into
# PostgreSQL beside pgloader, and Pagila into another database beside
# pg_dump -Fc | pg_restore; each side makes the tables, copies every row and
# builds the indexes. The sides take turns; wall time of the whole move
# (segue: start + backfill).
whole_segue() { # source-uri target-db
  printf 'version: 1\nname: whole\nsource: %s\ntarget: %s\nmappings: all\n' "$1" "$(uri "$2")" > "$D/w.yaml"
  $SEGUE start "$D/w.yaml" && $SEGUE backfill "$D/w.yaml"
}
whole_pgdump() { # source-db target-db
  pg_dump -Fc "$(uri "$1")" | pg_restore --no-owner -d "$(uri "$2")"
}
whole() {
  local data=${SEGUE_DATA:-../shared/data} r side ms
  local chinook=$data/chinook/Chinook_Sqlite.sqlite
  [ -r "$chinook" ] && [ -r "$data/pagila/pagila-schema.sql" ] || die "no datasets under $data (set SEGUE_DATA)"
  sql postgres "DROP DATABASE IF EXISTS pagila" >/dev/null 2>&1; sql postgres "CREATE DATABASE pagila" >/dev/null
  for f in pagila-schema.sql pagila-data.sql; do
    psql -Xq -v ON_ERROR_STOP=1 "$(uri pagila)" -f "$data/pagila/$f" >/dev/null 2>&1 || die "cannot load Pagila"
  done
  cp "$chinook" "$D/chinook.db"
  echo "== whole databases (median of $REPS, in turns)"
  : > "$D/chinook.segue"; : > "$D/chinook.pgloader"; : > "$D/pagila.segue"; : > "$D/pagila.pg_dump"
  for r in $(seq "$REPS"); do
    for side in segue pgloader; do
      [ $side = pgloader ] && ! command -v pgloader >/dev/null && continue
      blank t; sql t CHECKPOINT
      if [ $side = segue ]; then ms=$(timed whole_segue "sqlite:$D/chinook.db" t)
      else ms=$(timed pgloader --quiet "sqlite://$D/chinook.db" "$(uri t)"); fi
      [ "$(sql t "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" = 11 ] || die "$side: Chinook lacks tables"
      echo "$ms" >> "$D/chinook.$side"
      [ $side = segue ] && $SEGUE abort "$D/w.yaml" >/dev/null 2>&1
    done
    for side in segue pg_dump; do
      blank t; sql t CHECKPOINT
      if [ $side = segue ]; then ms=$(timed whole_segue "$(uri pagila)" t)
      else ms=$(timed whole_pgdump pagila t); fi
      [ "$(sql t "SELECT count(*) FROM rental")" = 16044 ] || die "$side: Pagila's rentals not moved"
      echo "$ms" >> "$D/pagila.$side"
      [ $side = segue ] && $SEGUE abort "$D/w.yaml" >/dev/null 2>&1
    done
  done
  local a b
  a=$(median < "$D/chinook.segue"); b=$(median < "$D/chinook.pgloader")
  printf '  Chinook (SQLite -> PostgreSQL): segue %s ms%s\n' "$a" \
    "${b:+, pgloader $b ms: segue $(ratio "$b" "$a") as fast}"
  a=$(median < "$D/pagila.segue"); b=$(median < "$D/pagila.pg_dump")
  printf '  Pagila (PostgreSQL -> another database): segue %s ms, pg_dump | pg_restore %s ms: segue %s as fast\n' \
    "$a" "$b" "$(ratio "$b" "$a")"
}

# --- 9. shadow-read replay ----------------------------------------------
# (not in the default run; BENCH_PG_ONLY=shadow) pgbench -S at 4 clients
# for BENCH_SHADOW_TX transactions each, logged to jsonlog; then segue
# shadow replays that log (into another database with every column
# renamed) at --concurrency 4. Rates side by side: segue runs every read
# twice (source and target) and compares. The sides take turns.
SHADOW_TX=${BENCH_SHADOW_TX:-10000}
shadow() {
  echo "== shadow-read replay of pgbench -S ($((SHADOW_TX * 4)) reads, 4 clients / --concurrency 4; median of $REPS)"
  echo "   (the replay's rate counts the reads it compared)"
  fresh s; blank t
  printf 'version: 1\nname: shb\nsource: %s\ntarget: %s\nmappings:\n  - from: pgbench_accounts\n    to: accounts\n    create: true\n    columns: {id: aid, branch: bid, balance: abalance, pad: filler}\n' \
    "$(uri s)" "$(uri t)" > "$D/sh.yaml"
  $SEGUE start "$D/sh.yaml" >/dev/null && $SEGUE backfill "$D/sh.yaml" >/dev/null 2>&1 &&
    $SEGUE run "$D/sh.yaml" --until caught-up >/dev/null 2>&1 || die "segue start/backfill"
  : > "$D/sh.pgbench"; : > "$D/sh.segue"
  local r tps start
  for r in $(seq "$REPS"); do
    sql postgres "ALTER SYSTEM SET log_destination = 'jsonlog'" >/dev/null
    sql postgres "ALTER SYSTEM SET log_min_duration_statement = 0" >/dev/null
    sql postgres "SELECT pg_reload_conf()" >/dev/null; sleep 1
    tps=$("$PG_BIN/pgbench" -n -S -c 4 -j 2 -t "$SHADOW_TX" "$(uri s)" 2>&1 | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
    sql postgres "ALTER SYSTEM RESET log_min_duration_statement" >/dev/null
    sql postgres "SELECT pg_reload_conf()" >/dev/null
    echo "${tps%.*}" >> "$D/sh.pgbench"
    # the collector writes the log behind the server: wait until it stops
    # growing (pgbench's reads the log does not hold are not replayed)
    local n=0 was=-1
    while n=$(cat "$PG_DIR"/data/log/*.json | wc -c); [ "$n" != "$was" ]; do was=$n; sleep 1; done
    cat "$PG_DIR"/data/log/*.json > "$D/sh.json"
    for f in "$PG_DIR"/data/log/*.json; do : > "$f"; done
    start=$(date +%s%N)
    $SEGUE shadow "$D/sh.yaml" --log "$D/sh.json" --database s --concurrency 4 --no-record > "$D/sh.out" ||
      die "segue shadow: $(tail -1 "$D/sh.out")"
    n=$(tail -1 "$D/sh.out" | sed -n 's/.* \([0-9]*\) compared.*/\1/p')
    echo $(( n * 1000000000 / ($(date +%s%N) - start) )) >> "$D/sh.segue"
  done
  local a b; a=$(median < "$D/sh.pgbench"); b=$(median < "$D/sh.segue")
  printf '  pgbench -S                   %8s reads/s\n  segue shadow --concurrency 4 %8s reads/s   %s\n' \
    "$a" "$b" "$(ratio "$b" "$a")"
  tail -1 "$D/sh.out" | sed 's/^/  /'
}

# --- 10. the C API's shadow read by key ---------------------------------------
# a C API bench: pgbench_accounts moved to accounts (its columns renamed)
# in another database, copied and caught up, then API SPEC TABLE SRC_URI
# SRC_SQL TGT_URI TGT_SQL KEYS N REPS run on it, indented
api_bench() { # tool name spec-extra [segue-args-after-caught-up]
  local api; api=$(dirname "$SEGUE")/bench/$1
  [ -x "$api" ] || die "build first: make (no $api)"
  fresh s; blank t
  printf 'version: 1\nname: %s\nsource: %s\ntarget: %s\nmappings:\n  - from: pgbench_accounts\n    to: accounts\n    create: true\n    columns: {id: aid, branch: bid, balance: abalance, pad: filler}\n%s' \
    "$2" "$(uri s)" "$(uri t)" "$3" > "$D/$2.yaml"
  $SEGUE start "$D/$2.yaml" >/dev/null && $SEGUE backfill "$D/$2.yaml" >/dev/null 2>&1 &&
    $SEGUE run "$D/$2.yaml" --until caught-up >/dev/null 2>&1 || die "segue start/backfill"
  [ -z "${4:-}" ] || { $SEGUE verify "$D/$2.yaml" >/dev/null 2>&1 &&
    $SEGUE cutover "$D/$2.yaml" $4 >/dev/null 2>&1; } || die "segue verify/cutover $4"
  "$api" "$D/$2.yaml" pgbench_accounts "$(uri s)" \
    'SELECT aid, bid, abalance, filler FROM pgbench_accounts WHERE aid = $1' "$(uri t)" \
    'SELECT id, branch, balance, pad FROM accounts WHERE id = $1' "$ROWS" 20000 $((REPS * 2 + 1)) |
    sed 's/^/  /' || die "$1"
}

# (not in the default run; BENCH_PG_ONLY=shadow_api) bench/shadow_api: one
# key's row read through sg_shadow_key (source row through the mapping,
# target row, compared) against the two prepared point reads an
# application would make; rounds of 20000 keys, the sides taking turns.
shadow_api() {
  echo "== C API: a shadowed point read vs the two plain reads (20000 keys x $((REPS * 2 + 1)) rounds, median)"
  api_bench shadow_api shapi ""
}

# --- 12. read-your-writes per key -----------------------------------------------
# (not in the default run; BENCH_PG_ONLY=ryw_api) bench/ryw_api: a point
# read routed with read-your-writes per key (sg_router_read_side_row: one
# lookup in the source's changelog, then the read) against the same read
# routed without it (sg_router_read_side), into another database with
# every read on the target; rounds of 20000 keys, the two taking turns.
ryw_api() {
  echo "== C API: a read with read-your-writes per key vs the routing alone (20000 keys x $((REPS * 2 + 1)) rounds, median)"
  api_bench ryw_api rywapi $'cutover:\n  read_your_writes: true\n' "--reads 100 --force --reason bench"
}

# --- 11. rollback drills -------------------------------------------------------
# (not in the default run; BENCH_PG_ONLY=drills) into another database, with
# gates.interval 500ms and failure_limit 3 (the aim: back within 2 s of the
# failure), under pgbench (4 clients: a read of pgbench_accounts, writes to
# tellers, branches and history; the accounts' writes are the drill's
# ledger's, through the routing); BENCH_DRILLS drills with --writes, then
# as many rollbacks by hand (`segue cutover --reads 100`, `--writes`, then
# `segue rollback`, timed) for the fence beside them
drill_load() { # database -> pgbench's pid, running until killed
  cat > "$D/drill_load.sql" <<'SQL'
\set aid random(1, 100000 * :scale)
\set tid random(1, 10 * :scale)
\set bid random(1, :scale)
\set delta random(-5000, 5000)
BEGIN;
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
UPDATE pgbench_tellers SET tbalance = tbalance + :delta WHERE tid = :tid;
UPDATE pgbench_branches SET bbalance = bbalance + :delta WHERE bid = :bid;
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (:tid, :bid, :aid, :delta, CURRENT_TIMESTAMP);
END;
SQL
  "$PG_BIN/pgbench" -n -c 4 -j 2 -T 100000 -D scale="$SCALE" -f "$D/drill_load.sql" \
    "$(uri "$1")" > "$D/drill_load.out" 2>&1 &
  echo $!
}
pctl() { # p -> the p-th percentile of stdin (nearest rank)
  sort -n | awk -v p="$1" '{a[NR] = $1} END {i = int(NR * p / 100 + 0.999); print a[i < 1 ? 1 : i]}'
}
drills() {
  local n=${BENCH_DRILLS:-20} i w load
  echo "== rollback drills with the writes, into another database, under pgbench ($n drills; interval 500ms, failure_limit 3)"
  fresh dr; blank drt
  spec "$(uri dr)" "$(uri drt)" pgbench_accounts > "$D/dr.yaml"
  printf 'cutover:\n  auto: true\n  reads:\n    - {pct: 10, hold: 1s}\n    - {pct: 100, hold: 1s}\ngates:\n  interval: 500ms\n  failure_limit: 3\n  checks:\n    lag: {max: 5s}\n' >> "$D/dr.yaml"
  $SEGUE start "$D/dr.yaml" >/dev/null && $SEGUE pause "$D/dr.yaml" >/dev/null &&
    $SEGUE backfill "$D/dr.yaml" >/dev/null 2>&1 || die "prepare"
  $SEGUE run "$D/dr.yaml" > "$D/dr.log" 2>&1 & w=$!
  until caught_up "$D/dr.yaml"; do sleep 0.05; done
  $SEGUE verify "$D/dr.yaml" >/dev/null || die "verify"
  load=$(drill_load dr)
  : > "$D/drills.json"
  for i in $(seq "$n"); do
    $SEGUE drill "$D/dr.yaml" --writes --json >> "$D/drills.json" 2>> "$D/drills.err" ||
      die "drill $i: $(tail -3 "$D/drills.err")"
  done
  : > "$D/byhand"
  for i in $(seq "$n"); do
    $SEGUE cutover "$D/dr.yaml" --reads 100 >/dev/null 2>&1 &&
      $SEGUE cutover "$D/dr.yaml" --writes >/dev/null 2>&1 || die "cutover by hand $i"
    timed $SEGUE rollback "$D/dr.yaml" >> "$D/byhand" || die "rollback by hand $i"
  done
  kill "$load"; wait "$load" 2>/dev/null
  local fences_hand; fences_hand=$(psql -XAtq "$(uri drt)" -c \
    "SELECT round(fence_us / 1000.0, 1) FROM segue.fences WHERE to_target = 0 ORDER BY at_ms DESC LIMIT $n")
  kill $w; wait $w 2>/dev/null
  local lim lost; lim=$(jq -s '.[0].limit_ms' "$D/drills.json")
  lost=$(jq -s 'map(.writes_lost + .differences) | add' "$D/drills.json")
  printf '  failure to rollback  median %s ms, p95 %s ms, max %s ms (aim: within %s ms)\n' \
    "$(jq '.to_rollback_ms' "$D/drills.json" | median)" "$(jq '.to_rollback_ms' "$D/drills.json" | pctl 95)" \
    "$(jq '.to_rollback_ms' "$D/drills.json" | pctl 100)" "$lim"
  printf '  failure to C API     median %s ms, max %s ms (the router re-reads every serve.refresh)\n' \
    "$(jq '.to_router_ms' "$D/drills.json" | median)" "$(jq '.to_router_ms' "$D/drills.json" | pctl 100)"
  printf '  rollback fence       p50 %s ms, p99 %s ms over %s drills (aim: p99 <= 100 ms)\n' \
    "$(jq '.fence_ms' "$D/drills.json" | median)" "$(jq '.fence_ms' "$D/drills.json" | pctl 99)" "$n"
  printf '  cutover fence        p50 %s ms, p99 %s ms (the drill'"'"'s, from another process than the worker)\n' \
    "$(jq '.fence_in_ms' "$D/drills.json" | median)" "$(jq '.fence_in_ms' "$D/drills.json" | pctl 99)"
  printf '  by hand: fence       p50 %s ms, p99 %s ms; `segue rollback` %s ms (median; no writes to accounts then)\n' \
    "$(echo "$fences_hand" | median)" "$(echo "$fences_hand" | pctl 99)" "$(median < "$D/byhand")"
  printf '  ledger writes %s (%s on the target), lost + differences %s\n' \
    "$(jq -s 'map(.writes_made) | add' "$D/drills.json")" \
    "$(jq -s 'map(.writes_on_target) | add' "$D/drills.json")" "$lost"
}

[ -x "$SEGUE" ] || die "build first: make"
pg_start -c shared_buffers=512MB -c max_wal_size=4GB -c checkpoint_timeout=30min \
  -c logging_collector=on -c log_directory=log >/dev/null || die "cannot start PostgreSQL"
echo "segue PostgreSQL bench: $(nproc) cores, $(psql -XAtq "$PG_URI" -c 'SHOW server_version'), scale $SCALE, $(date -u +%FT%TZ)"
sql postgres "CREATE DATABASE base" >/dev/null
"$PG_BIN/pgbench" -i -s "$SCALE" -q "$(uri base)" >/dev/null 2>&1 || die "pgbench -i"
for part in ${BENCH_PG_ONLY:-same_db other_db capture apply drain from_sqlite}; do "$part"; done
