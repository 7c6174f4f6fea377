#!/usr/bin/env bash
# segue serve benchmarks, one run (`make bench`; BENCH_REPS, BENCH_SECS
# override the sizes; BENCH_ONLY names parts). Medians of BENCH_REPS runs,
# the two sides alternating.
#   ofrep:   OFREP single evaluations under wrk (32 connections, 2 threads)
#            beside the same libmicrohttpd set-up answering a constant
#            (/healthz: the HTTP floor), requests/s and p50/p99 latency;
#   metrics: /metrics scrape time with every Chinook table mapped (11
#            mappings) and outcomes of 100 query types reported.
set -u
cd "$(dirname "$0")/.." || exit 1
SEGUE=${SEGUE:-build/segue}
TOOLS=$(dirname "$SEGUE")/tools
REPS=${BENCH_REPS:-3}
SECS=${BENCH_SECS:-10}
D=$(mktemp -d /tmp/segue-bench-serve-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$D"' EXIT
. bench/lib.sh
. tests/e2e/lib.sh >/dev/null 2>&1 || true   # fresh_chinook, CHINOOK
only() { [ -z "${BENCH_ONLY:-}" ] || [[ " $BENCH_ONLY " == *" $1 "* ]]; }
command -v wrk >/dev/null || die "wrk is missing (scripts/setup.sh --bench installs it)"

# a started migration of every Chinook table, served on a free port
fresh_chinook "$D/s.db" || die "cannot copy Chinook"
printf 'version: 1\nname: bench\nsource: sqlite:%s\ntarget: sqlite:%s\nmappings: all\n' \
  "$D/s.db" "$D/t.db" > "$D/m.yaml"
$SEGUE start "$D/m.yaml" >/dev/null || die "start"
$SEGUE serve "$D/m.yaml" --listen 127.0.0.1:0 > "$D/serve.out" 2>&1 &
for _ in $(seq 100); do grep -qs "listening on" "$D/serve.out" && break; sleep 0.1; done
URL=$(grep -o 'http://[^ ]*' "$D/serve.out" | head -1)
[ -n "$URL" ] || die "segue serve did not start: $(cat "$D/serve.out")"

cat > "$D/ofrep.lua" <<'LUA'
local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", "/ofrep/v1/evaluate/flags/segue.bench.reads",
    { ["Content-Type"] = "application/json" },
    '{"context":{"targetingKey":"user-' .. n .. '"}}')
end
LUA

# one wrk run: "rps p50_ms p99_ms"
wrk_run() { # path [script]
  local out
  out=$(wrk -t2 -c32 -d"${SECS}s" --latency ${2:+-s "$2"} "$URL$1" 2>&1)
  local rps p50 p99
  rps=$(echo "$out" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p')
  p50=$(echo "$out" | awk '$1 == "50%" { print $2 }')
  p99=$(echo "$out" | awk '$1 == "99%" { print $2 }')
  echo "$rps $(to_ms "$p50") $(to_ms "$p99")"
}
to_ms() { # 812.00us / 1.20ms / 2.00s -> ms
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /[0-9]s$/ && v !~ /ms$/) n *= 1000; printf "%.3f", n }'
}

if only ofrep; then
  for r in $(seq "$REPS"); do
    if [ $((r % 2)) = 1 ]; then
      wrk_run /ofrep/v1/evaluate/flags "$D/ofrep.lua" >> "$D/ofrep"; wrk_run /healthz >> "$D/floor"
    else
      wrk_run /healthz >> "$D/floor"; wrk_run /ofrep/v1/evaluate/flags "$D/ofrep.lua" >> "$D/ofrep"
    fi
  done
  o_rps=$(awk '{print $1}' "$D/ofrep" | median); f_rps=$(awk '{print $1}' "$D/floor" | median)
  echo "ofrep   single evaluation: $o_rps req/s, p50 $(awk '{print $2}' "$D/ofrep" | median) ms, p99 $(awk '{print $3}' "$D/ofrep" | median) ms"
  echo "floor   /healthz (same server): $f_rps req/s, p50 $(awk '{print $2}' "$D/floor" | median) ms, p99 $(awk '{print $3}' "$D/floor" | median) ms"
  echo "ofrep / floor requests/s: $(ratio "$o_rps" "$f_rps")   (runs: $(tr '\n' ';' < "$D/ofrep") / $(tr '\n' ';' < "$D/floor"))"
fi

if only metrics; then
  for k in $(seq 100); do
    "$TOOLS/report_outcomes" "$D/m.yaml" "$([ $((k % 2)) = 1 ] && echo target || echo source)" "query_$k" 1 $k 3 >/dev/null 2>&1 ||
      die "report_outcomes"
  done
  for _ in $(seq 100); do
    [ "$(curl -s "$URL/metrics" | grep -c '^segue_app_operations_total')" -ge 200 ] && break; sleep 0.1
  done
  for r in $(seq $((REPS * 10))); do
    curl -s -o /dev/null -w '%{time_total}\n' "$URL/metrics"
  done | awk '{ print $1 * 1000 }' > "$D/scrape"
  echo "metrics scrape: median $(median < "$D/scrape") ms, max $(sort -n "$D/scrape" | tail -1) ms, $(curl -s "$URL/metrics" | wc -c) bytes ($(curl -s "$URL/metrics" | grep -vc '^#') samples; 11 mappings, 100 query types x 1 side)"
fi
