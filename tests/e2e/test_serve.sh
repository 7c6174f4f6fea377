#!/usr/bin/env bash
# End-to-end tests of `segue serve` on SQLite: OFREP answered to the real
# OpenFeature JavaScript SDK (npm), equal to `segue route` and the C API;
# the bulk ETag; /metrics read by promtool and scraped by a real Prometheus;
# bad input of every kind.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
. tests/e2e/serve_lib.sh

spec_sv() { # dir
  fresh_chinook "$1/s.db"
  cat > "$1/m.yaml" <<YAML
version: 1
name: sv
source: sqlite:$1/s.db
target: sqlite:$1/t.db
mappings:
  - from: Customer
    to: customer_v2
    create: true
  - from: Track
    to: track_v2
    create: true
backfill:
  chunk_time: 50ms
YAML
}

# a migration copied and verified, ready for a read cutover, and served
verified_and_served() { # dir
  spec_sv "$1"
  started_caught_up "$1/m.yaml"
  check "verify" $SEGUE verify "$1/m.yaml" >/dev/null 2>&1
  serve_start "$1" "$1/m.yaml" --listen 127.0.0.1:0
}

reads_cutover() { # spec pct
  check "cutover --reads $2" $SEGUE cutover "$1" --reads "$2" --force --reason test >/dev/null 2>&1
}

# keys at PCT: "key side" from the SDK, `segue route` and the C API, each
# compared; the share of target keys checked against PCT: within 5 sd on
# these keys, within 1 % on a million
compare_at_pct() { # dir pct
  local d=$1 pct=$2 n
  ofrep_eval segue.sv.reads boolean < "$d/keys" > "$d/sdk.$pct"
  awk -F'\t' '{ print $1, ($2 == "true" ? "target" : "source") }' "$d/sdk.$pct" > "$d/sdk_side.$pct"
  $SEGUE route "$d/m.yaml" --keys "$d/keys" |
    sed -n 's/^key \(.*\) (bucket [0-9]*): read from \([a-z]*\),.*/\1 \2/p' > "$d/route.$pct"
  "$TOOLS/route_keys" "$d/m.yaml" < "$d/keys" | grep -v '^writes ' > "$d/capi.$pct"
  n=$(wc -l < "$d/sdk_side.$pct")
  [ "$n" = 10000 ] || fail "at $pct %: the SDK answered $n of 10000 keys"
  cmp -s "$d/sdk_side.$pct" "$d/route.$pct" ||
    fail "at $pct %: the SDK and segue route differ: $(diff "$d/sdk_side.$pct" "$d/route.$pct" | head -3)"
  cmp -s "$d/sdk_side.$pct" "$d/capi.$pct" ||
    fail "at $pct %: the SDK and the C API differ: $(diff "$d/sdk_side.$pct" "$d/capi.$pct" | head -3)"
  local want=SPLIT; [ "$pct" = 100 ] && want=STATIC
  local bad; bad=$(awk -F'\t' -v w=$want '$3 != w || $4 != "-"' "$d/sdk.$pct" | head -2)
  [ -z "$bad" ] || fail "at $pct %: answers not $want: $bad"
  # the salt is random per migration, so the count is binomial(10000, pct):
  # allow 5 standard deviations (+-250 at 50 %), a chance of 6e-7 to miss
  n=$(grep -c ' target$' "$d/sdk_side.$pct")
  local tol; tol=$(awk -v p="$pct" 'BEGIN { printf "%d", 1 + 5 * sqrt(10000 * p / 100 * (1 - p / 100)) }')
  [ $((n - pct * 100)) -le "$tol" ] && [ $((pct * 100 - n)) -le "$tol" ] ||
    fail "at $pct %: $n of 10000 keys read from the target (allowed $((pct * 100)) +- $tol)"
  # the issue's +-1 % of the percentage, on 1M keys through the C API (which
  # answers as the SDK does, above): there 1 % is at least 20 sd
  n=$(seq 1 1000000 | sed 's/^/user-/' | "$TOOLS/route_keys" "$d/m.yaml" | grep -c ' target$')
  [ $((n - pct * 10000)) -le 10000 ] && [ $((pct * 10000 - n)) -le 10000 ] ||
    fail "at $pct %: $n of 1000000 keys read from the target (allowed $((pct * 10000)) +- 10000)"
}

test_ofrep_sdk_answers_equal_route_and_c_api() {
  ofrep_client_ready || return
  local d; d=$(scratch)
  verified_and_served "$d" || return
  seq 1 10000 | sed 's/^/user-/' > "$d/keys"
  local pct prev=""
  for pct in 1 10 50 100; do
    reads_cutover "$d/m.yaml" $pct
    wait_for "serve answers $pct %" 30 serves_pct sv $pct || break
    compare_at_pct "$d" $pct
    if [ -n "$prev" ]; then
      local lost; lost=$(comm -23 <(grep ' target$' "$d/sdk_side.$prev" | sort) \
                                  <(grep ' target$' "$d/sdk_side.$pct" | sort) | head -3)
      [ -z "$lost" ] || fail "raising $prev % to $pct % moved keys back to the source: $lost"
    fi
    prev=$pct
  done
  local got
  got=$(echo user-1 | ofrep_eval segue.nope.reads boolean)
  [ "$got" = "$(printf 'user-1\tfalse\tERROR\tFLAG_NOT_FOUND')" ] ||
    fail "an unknown flag gave: $got"
  got=$(echo "" | ofrep_eval segue.sv.reads boolean)
  [ "$got" = "$(printf '\tfalse\tERROR\tTARGETING_KEY_MISSING')" ] ||
    fail "no targeting key gave: $got"
  got=$(echo user-1 | ofrep_eval segue.sv.writes string)
  [ "$got" = "$(printf 'user-1\tsource\tSTATIC\t-')" ] || fail "the writes flag gave: $got"
  serve_stop
}

# the bulk answer's status with If-None-Match: ETAG; its ETag in DIR/etag
bulk_status() { # dir etag
  curl -s -D "$1/h" -o "$1/b" -X POST --data-binary '{"context":{"targetingKey":"user-7"}}' \
    ${2:+-H "If-None-Match: $2"} -w '%{http_code}' "$SERVE_URL/ofrep/v1/evaluate/flags"
  tr -d '\r' < "$1/h" | sed -n 's/^[Ee][Tt][Aa][Gg]: //p' > "$1/etag"
}
bulk_changed() { # dir old-etag
  [ "$(bulk_status "$1" "$2")" = 200 ] && [ -s "$1/etag" ] && [ "$(cat "$1/etag")" != "$2" ]
}

# where `segue route --context` (the C API's router) sends KEY's reads,
# and the segment that decided: "side segment"
routed() { # spec key context
  $SEGUE route "$1" "$2" --context "$3" --json | jq -r '"\(.read) \(.segment)"'
}
# OFREP's answer for KEY with context attributes (JSON members): "value
# reason segment"
ofrep_read() { # key members
  ofrep_post /ofrep/v1/evaluate/flags/segue.sv.reads "{\"context\":{\"targetingKey\":\"$1\"$2}}" |
    head -1 | jq -r '"\(.value) \(.reason) \(.metadata.segment)"'
}
ofrep_read_is() { [ "$(ofrep_read "$1" "$2")" = "$3" ]; } # key members want
first_key_reading() { # spec side: the first key 1..1000 whose reads go there
  local k; for k in $(seq 1 1000); do
    [ "$($SEGUE route "$1" "$k" --json | jq -r .read)" = "$2" ] && { echo "$k"; return; }
  done
}

# where `segue route --row` (the C API's sg_router_read_side_row) sends a
# read of user-1 for row ROW: "side pending"
row_read() { # spec row
  $SEGUE route "$1" user-1 --row "$2" --json 2>&1 | jq -r '"\(.read) \(.row_pending)"'
}
row_read_is() { # spec row want
  local got; got=$(row_read "$1" "$2")
  [ "$got" = "$3" ] || fail "row $2 read: $got, not $3"
}
route_row_refused() { # spec row message
  local out; out=$($SEGUE route "$1" user-1 --row "$2" 2>&1) && fail "--row $2 was taken: $out"
  echo "$out" | grep -qF "$3" || fail "--row $2: $out"
}

# read-your-writes per key: with every read on the target, a row written
# on the source reads from the source until the worker applied it, other
# rows from the target; a key set aside sends its table's reads to the
# source until `segue retry` applied it; an application that writes rows
# and reads each back at once, beside a live worker, always reads its own
# write; a row of no mapping, or the wrong number of key values, is
# refused, and so is any row when the spec turns the lookups off
# examples/node/follow_cutover.mjs, run as its comment says: through the
# service alone it follows the reads from 0 to 10, 50 and 100 %, each count
# of users on the target it prints equal to what `segue route` says of the
# same users, then the write cutover, and exits 0 once all is on the target
test_the_node_example_follows_a_cutover() {
  example_node_ready || return
  local d f pct n; d=$(scratch)
  verified_and_served "$d" || return
  seq 1 100 | sed 's/^/user-/' > "$d/keys"
  node examples/node/follow_cutover.mjs "$SERVE_URL" sv 100 > "$d/follow.out" 2> "$d/follow.err" &
  f=$!
  wait_for "the example's first line" 30 grep -qx "reads: 0 of 100 users on the target; writes: source" \
    "$d/follow.out" || { kill $f; serve_stop; return; }
  for pct in 10 50 100; do
    reads_cutover "$d/m.yaml" $pct
    n=$($SEGUE route "$d/m.yaml" --keys "$d/keys" | grep -c 'read from target')
    wait_for "the example sees $n users on the target at $pct %" 30 grep -qx \
      "reads: $n of 100 users on the target; writes: source" "$d/follow.out" || break
  done
  check "writes" with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --writes > /dev/null
  wait_for "the example exits" 30 eval '! running $f' || kill $f
  wait $f || fail "the example exited $?: $(cat "$d/follow.err")"
  [ "$(tail -1 "$d/follow.out")" = "reads: 100 of 100 users on the target; writes: target" ] ||
    fail "the example's last line: $(tail -1 "$d/follow.out")"
  serve_stop
}

test_a_row_read_after_its_write_sees_the_write() {
  local d out w; d=$(scratch)
  spec_sv "$d"
  cp "$d/m.yaml" "$d/off.yaml"
  printf 'cutover:\n  read_your_writes: true\n' >> "$d/m.yaml"
  started_caught_up "$d/m.yaml"
  [ "$(sqlite3 "$d/s.db" "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND
      tbl_name LIKE '\_segue\_log\_sv\_%' ESCAPE '\'")" = 2 ] || fail "the changelogs are not indexed by key"
  check "verify" $SEGUE verify "$d/m.yaml" >/dev/null 2>&1
  reads_cutover "$d/m.yaml" 100
  row_read_is "$d/m.yaml" Customer=7 "target false"
  sqlite3 "$d/s.db" "UPDATE Customer SET FirstName = 'Zed' WHERE CustomerId = 7"
  row_read_is "$d/m.yaml" Customer=7 "source true"
  row_read_is "$d/m.yaml" Customer=8 "target false"
  route_row_refused "$d/m.yaml" Nope=1 'no mapping reads source table "Nope"; hint: name one of "Customer", "Track"'
  route_row_refused "$d/m.yaml" Customer=1,2 '"Customer" has 1 key column(s), 2 value(s) were given'
  route_row_refused "$d/m.yaml" Customer 'TABLE=KEY'
  route_row_refused "$d/off.yaml" Customer=7 "read-your-writes per key is off for migration 'sv'; hint: set cutover.read_your_writes: true"
  check "drain" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null 2>&1
  row_read_is "$d/m.yaml" Customer=7 "target false"
  # the target refuses a row: its key is set aside, its table reads the source
  sqlite3 "$d/t.db" "CREATE TRIGGER nobad BEFORE UPDATE ON customer_v2 WHEN NEW.FirstName =
    'bad' BEGIN SELECT RAISE(ABORT, 'no bad names'); END" || fail "the refusing trigger"
  sqlite3 "$d/s.db" "UPDATE Customer SET FirstName = 'bad' WHERE CustomerId = 9"
  check "drain past the refused row" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null 2>&1
  $SEGUE status "$d/m.yaml" | grep -q "set aside  *1 key" || fail "not set aside: $($SEGUE status "$d/m.yaml")"
  row_read_is "$d/m.yaml" Customer=10 "source true"
  row_read_is "$d/m.yaml" Track=10 "target false"
  sqlite3 "$d/t.db" "DROP TRIGGER nobad"
  check "retry" $SEGUE retry "$d/m.yaml" >/dev/null
  check "drain the retried key" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null 2>&1
  row_read_is "$d/m.yaml" Customer=10 "target false"
  # the application beside a live worker
  $SEGUE run "$d/m.yaml" > "$d/run.log" 2>&1 & w=$!
  out=$("$TOOLS/ryw_check" "$d/m.yaml" "sqlite:$d/s.db" Customer "sqlite:$d/t.db" customer_v2 \
          CustomerId FirstName 59 3000 2>&1)
  echo "$out" | tail -1 | jq -e '.reads >= 3000 and .stale == 0' >/dev/null ||
    fail "reads after writes: $out"
  echo "    (read-your-writes: $(echo "$out" | tail -1))"
  kill $w; wait $w 2>/dev/null
  check "drain" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null 2>&1
  out=$(sqlite3 "$d/t.db" "ATTACH '$d/s.db' AS s; SELECT count(*) FROM (SELECT * FROM s.Customer
    EXCEPT SELECT * FROM customer_v2)")
  [ "$out" = 0 ] || fail "$out source rows differ in the target"
}

# cutover.segments, published by the worker: while the reads shift, a
# context attribute holding one of a segment's values decides before the
# percentage (the first segment that matches), the same through OFREP
# (TARGETING_MATCH, the segment named) and the C API's router; other
# values, and no context, go by the bucket; a rollback sends every read
# to the source, segments too
test_segments_decide_before_the_percentage() {
  local d ks kt; d=$(scratch)
  spec_sv "$d"
  cat >> "$d/m.yaml" <<YAML
cutover:
  segments:
    - {name: staff, attribute: tenant, in: [acme-internal, acme-qa], reads: target}
    - {name: vip, attribute: plan, in: [gold], reads: source}
YAML
  started_caught_up "$d/m.yaml"
  check "verify" quiet_ok $SEGUE verify "$d/m.yaml"
  serve_start "$d" "$d/m.yaml" --listen 127.0.0.1:0 || return
  reads_cutover "$d/m.yaml" 10
  ks=$(first_key_reading "$d/m.yaml" source); kt=$(first_key_reading "$d/m.yaml" target)
  [ -n "$ks" ] && [ -n "$kt" ] || { fail "no key on each side at 10 %"; serve_stop; return; }
  [ "$(routed "$d/m.yaml" "$ks" tenant=acme-internal)" = "target staff" ] ||
    fail "C API, staff: $(routed "$d/m.yaml" "$ks" tenant=acme-internal)"
  [ "$(routed "$d/m.yaml" "$kt" plan=gold)" = "source vip" ] ||
    fail "C API, vip: $(routed "$d/m.yaml" "$kt" plan=gold)"
  [ "$(routed "$d/m.yaml" "$ks" tenant=acme-qa,plan=gold)" = "target staff" ] ||
    fail "C API, the first segment: $(routed "$d/m.yaml" "$ks" tenant=acme-qa,plan=gold)"
  [ "$(routed "$d/m.yaml" "$ks" tenant=other,plan=silver)" = "source null" ] ||
    fail "C API, no segment: $(routed "$d/m.yaml" "$ks" tenant=other,plan=silver)"
  wait_for "OFREP serves the segments" 30 ofrep_read_is "$ks" ',"tenant":"acme-internal"' "true TARGETING_MATCH staff"
  [ "$(ofrep_read "$kt" ',"plan":"gold"')" = "false TARGETING_MATCH vip" ] ||
    fail "OFREP, vip: $(ofrep_read "$kt" ',"plan":"gold"')"
  [ "$(ofrep_read "$ks" ',"tenant":"other"')" = "false SPLIT null" ] ||
    fail "OFREP, no segment: $(ofrep_read "$ks" ',"tenant":"other"')"
  check "rollback" quiet_ok $SEGUE rollback "$d/m.yaml"
  [ "$(routed "$d/m.yaml" "$ks" tenant=acme-internal)" = "source null" ] ||
    fail "C API after the rollback: $(routed "$d/m.yaml" "$ks" tenant=acme-internal)"
  wait_for "OFREP after the rollback" 30 ofrep_read_is "$ks" ',"tenant":"acme-internal"' "false STATIC null"
  serve_stop
}
quiet_ok() { "$@" > /dev/null 2>&1; }

test_ofrep_bulk_is_not_modified_until_routing_changes() {
  local d; d=$(scratch)
  verified_and_served "$d" || return
  local code etag i
  code=$(bulk_status "$d" "")
  etag=$(cat "$d/etag")
  [ "$code" = 200 ] && [ -n "$etag" ] || { fail "bulk: $code, ETag '$etag'"; serve_stop; return; }
  grep -q '"key":"segue.sv.reads"' "$d/b" && grep -q '"key":"segue.sv.writes"' "$d/b" ||
    fail "bulk lacks a flag: $(cat "$d/b")"
  for i in 1 2 3; do
    code=$(bulk_status "$d" "$etag")
    [ "$code" = 304 ] || fail "bulk with its own ETag, try $i: $code"
  done
  reads_cutover "$d/m.yaml" 30
  wait_for "bulk answers 200 with a new ETag after the cutover" 30 bulk_changed "$d" "$etag"
  grep -q '"readPercent":30' "$d/b" || fail "the new bulk answer: $(cat "$d/b")"
  code=$(bulk_status "$d" "$(cat "$d/etag")")
  [ "$code" = 304 ] || fail "bulk with the new ETag: $code"
  serve_stop
}

expect_status() { # what want path [curl args...]
  local what=$1 want=$2 path=$3 got; shift 3
  got=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" "$SERVE_URL$path")
  [ "$got" = "$want" ] || fail "$what: status $got, not $want"
}

# what the service may change: the audit trail and the routing
control_state() { # spec
  $SEGUE log "$1" --json | wc -c
  served_pct sv
}

# /api/v1/audit's tail: the trail's last 20 rows, in order, as `segue log`
# lists them, and it follows the trail as rows arrive past a full tail
# (read again from the tail's oldest row on)
audit_served() { # -> "id action reason" per served row
  curl -s --max-time 10 "$SERVE_URL/api/v1/audit" |
    jq -r '.migrations[0].audit[] | "\(.at) \(.action) \(.reason)"'
}
audit_logged() { # spec -> the same for the trail's last 20 rows
  $SEGUE log "$1" --json | jq -r '.[-20:][] | "\(.at) \(.action) \(.reason // "")"'
}
audit_follows() { # spec
  [ "$(audit_served)" = "$(audit_logged "$1")" ]
}
# ... and keeps equal over the next few refreshes (the service reads the
# trail every second; a tail that is right only now and then fails here)
audit_stays() { # spec
  local i
  for i in 1 2 3 4 5 6 7 8; do
    audit_follows "$1" || return 1
    sleep 0.3
  done
}
test_audit_tail_follows_the_trail() {
  local d; d=$(scratch)
  verified_and_served "$d" || return
  local i
  for i in $(seq 1 12); do
    check "cutover $i" $SEGUE cutover "$d/m.yaml" --reads "$i" --force --reason "r$i" >/dev/null 2>&1
  done
  [ "$($SEGUE log "$d/m.yaml" --json | jq length)" -gt 24 ] || fail "the trail is too short to fill the tail"
  wait_for "the served tail equals the trail's last 20 rows" 30 audit_follows "$d/m.yaml" ||
    fail "served: $(audit_served | tail -2) logged: $(audit_logged "$d/m.yaml" | tail -2)"
  audit_stays "$d/m.yaml" || fail "the served tail changed with no new row: $(audit_served | wc -l) rows"
  for i in 13 14; do
    check "cutover $i" $SEGUE cutover "$d/m.yaml" --reads "$i" --force --reason "r$i" >/dev/null 2>&1
    wait_for "the tail follows cutover $i" 30 audit_follows "$d/m.yaml" ||
      { fail "served: $(audit_served | tail -2)"; break; }
    audit_stays "$d/m.yaml" || fail "after cutover $i the served tail changed with no new row"
  done
  [ "$(audit_served | wc -l)" = 20 ] && [ "$(audit_served | tail -1)" = "$(audit_logged "$d/m.yaml" | tail -1)" ] &&
    audit_served | tail -1 | grep -q ' r14$' || fail "the tail's last row: $(audit_served | tail -1)"
  serve_stop
}

test_serve_refuses_bad_input() {
  local d; d=$(scratch)
  verified_and_served "$d" || return
  local before; before=$(control_state "$d/m.yaml")
  local single=/ofrep/v1/evaluate/flags/segue.sv.reads bulk=/ofrep/v1/evaluate/flags
  ofrep_post $single '{"context": {' > "$d/r"
  [ "$(tail -1 "$d/r")" = 400 ] && grep -q '"errorCode":"PARSE_ERROR"' "$d/r" ||
    fail "malformed JSON: $(cat "$d/r")"
  ofrep_post $bulk '[1' > "$d/r"
  [ "$(tail -1 "$d/r")" = 400 ] && grep -q '"errorCode":"PARSE_ERROR"' "$d/r" ||
    fail "malformed JSON (bulk): $(cat "$d/r")"
  ofrep_post $single '{"context": 5}' > "$d/r"
  [ "$(tail -1 "$d/r")" = 400 ] && grep -q '"errorCode":"INVALID_CONTEXT"' "$d/r" ||
    fail "a context that is not an object: $(cat "$d/r")"
  head -c 10000000 /dev/zero | tr '\0' ' ' > "$d/big"
  expect_status "a 10 MB body" 413 $bulk -X POST --data-binary "@$d/big"
  expect_status "a 10 MB body, chunked" 413 $bulk -X POST -H 'Transfer-Encoding: chunked' \
    --data-binary "@$d/big"
  expect_status "GET on an OFREP path" 405 $single
  expect_status "POST on /metrics" 405 /metrics -X POST -d x
  expect_status "DELETE on /healthz" 405 /healthz -X DELETE
  expect_status "an unknown path" 404 /ofrep/v2/nothing -X POST -d '{}'
  # slow clients: 50 connections that send half a request and wait
  local port=${SERVE_URL##*:} i pids=()
  for i in $(seq 50); do
    ( exec 5<>"/dev/tcp/127.0.0.1/$port"
      printf 'POST /ofrep/v1/evaluate/flags HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{' >&5
      timeout 60 cat <&5 >/dev/null; echo $? > "$d/slow.$i" ) &
    pids+=($!)
  done
  expect_status "healthz beside 50 slow clients" 200 /healthz
  ofrep_post $single '{"context":{"targetingKey":"k"}}' > "$d/r"
  [ "$(tail -1 "$d/r")" = 200 ] || fail "an evaluation beside slow clients: $(cat "$d/r")"
  wait "${pids[@]}"
  [ "$(cat "$d"/slow.* | sort -u)" = 0 ] ||
    fail "slow clients were not cut off by the idle timeout: $(cat "$d"/slow.* | sort | uniq -c)"
  [ "$(control_state "$d/m.yaml")" = "$before" ] || fail "bad requests changed the migration"
  running "$SERVE_PID" || fail "segue serve is gone"
  serve_stop
}

test_serve_needs_a_token_off_loopback_and_checks_it() {
  local d out rc; d=$(scratch)
  spec_sv "$d"
  out=$(SEGUE_TOKEN= $SEGUE serve "$d/m.yaml" --listen 0.0.0.0:0 2>&1); rc=$?
  [ $rc = 2 ] && echo "$out" | grep -q "token is required" ||
    fail "non-loopback without a token: exit $rc: $out"
  out=$($SEGUE serve "$d/m.yaml" --listen 127.0.0.1 2>&1); rc=$?
  [ $rc = 2 ] && echo "$out" | grep -q "expected HOST:PORT" || fail "no port: exit $rc: $out"
  echo "s3cret-token" > "$d/token"
  serve_start "$d" "$d/m.yaml" --listen 0.0.0.0:0 --token-file "$d/token" || return
  SERVE_URL=http://127.0.0.1:${SERVE_URL##*:}
  local single=/ofrep/v1/evaluate/flags/segue.sv.writes
  expect_status "no token" 401 $single -X POST -d '{}'
  expect_status "a wrong token" 401 $single -X POST -d '{}' -H 'Authorization: Bearer nope'
  expect_status "a wrong API key" 401 /metrics -H 'X-API-Key: s3cret-toke'
  expect_status "the token as Bearer" 200 $single -X POST -d '{}' \
    -H 'Authorization: Bearer s3cret-token'
  expect_status "the token as X-API-Key" 200 /metrics -H 'X-API-Key: s3cret-token'
  expect_status "healthz needs none" 200 /healthz
  serve_stop
}

test_metrics_pass_promtool() {
  command -v promtool >/dev/null || { fail "promtool is missing (make setup installs prometheus)"; return; }
  local d; d=$(scratch)
  verified_and_served "$d" || return
  ofrep_post /ofrep/v1/evaluate/flags/segue.sv.reads '{}' > /dev/null
  # shadow reads of two query shapes, recorded
  printf 'SELECT * FROM Customer WHERE CustomerId = %s;\n' 1 2 3 > "$d/reads.sql"
  printf 'SELECT Name FROM Track WHERE TrackId = %s;\n' 4 5 >> "$d/reads.sql"
  check "shadow" quiet $SEGUE shadow "$d/m.yaml" --log "$d/reads.sql"
  wait_for "the shapes in /metrics" 30 metric_has 'segue_shadow_latency_seconds_count{migration="sv",fingerprint="[0-9a-f]*",side="target"} 3'
  curl -s "$SERVE_URL/metrics" > "$d/metrics"
  promtool check metrics < "$d/metrics" > "$d/promtool" 2>&1 ||
    fail "promtool check metrics: $(head -5 "$d/promtool")"
  local f
  for f in 'segue_lag_seconds{migration="sv"} 0' 'segue_phase{migration="sv",phase="shadowing"} 1' \
           'segue_changelog_backlog{migration="sv",table="Track",direction="forward"} 0' \
           'segue_heartbeat_lag_seconds{migration="sv"} ' \
           'segue_ofrep_evaluations_total{migration="sv",flag="reads",reason="TARGETING_KEY_MISSING"} 1'; do
    grep -qF "$f" "$d/metrics" || fail "/metrics lacks: $f"
  done
  serve_stop
}

metric_has() { # regex of a whole line
  curl -s "$SERVE_URL/metrics" | grep -qx "$1"
}
metric_is() { # metrics-line-prefix value
  curl -s "$SERVE_URL/metrics" | grep -qxF "$1 $2"
}

test_application_outcomes_from_events_and_the_c_api_add_up() {
  local d; d=$(scratch)
  # reports of two hours ago, held by a router and written late: settled
  # minutes the service reads once and adds to the latest
  local old=$(( $(date +%s) / 60 - 120 ))
  spec_sv "$d"
  started_caught_up "$d/m.yaml"
  check "the first report makes the tables" "$TOOLS/report_outcomes" "$d/m.yaml" source warm_up 1 1 1
  sqlite3 "$d/t.db" "INSERT INTO _segue_app_outcomes (migration, minute, side, kind, ok, errors)
      VALUES ('sv', $old, 1, 'get_user', 7, 2), ('sv', $old, 1, 'old_kind', 1, 0);
    INSERT INTO _segue_app_latency (migration, minute, side, kind, bucket, n)
      VALUES ('sv', $old, 1, 'get_user', 0, 9)" || { fail "old reports"; return; }
  check "verify" $SEGUE verify "$d/m.yaml" >/dev/null 2>&1
  serve_start "$d" "$d/m.yaml" --listen 127.0.0.1:0 || return
  local ev='{"migration":"sv","side":"target","kind":"get_user","ok":true,"ms":5}' batch i
  batch="[$ev"; for i in $(seq 29); do batch="$batch,$ev"; done
  for i in $(seq 10); do batch="$batch,${ev/true/false}"; done
  batch="$batch,{\"migration\":\"sv\",\"side\":\"source\",\"ok\":true,\"ms\":2.5}]"
  curl -s -X POST --data-binary "$batch" -w '\n%{http_code}\n' "$SERVE_URL/api/v1/events" > "$d/r"
  [ "$(tail -1 "$d/r")" = 202 ] && grep -q '"accepted":41' "$d/r" || fail "events: $(cat "$d/r")"
  check "the C API's reports" "$TOOLS/report_outcomes" "$d/m.yaml" target get_user 0 40 5
  local p='segue_app_operations_total{migration="sv",side="target",kind="get_user"'
  wait_for "37 ok and 17 errors on the target" 30 metric_is "$p,outcome=\"error\"}" 17
  metric_is "$p,outcome=\"ok\"}" 37 || fail "ok on the target: $(curl -s "$SERVE_URL/metrics" | grep "$p")"
  metric_is 'segue_app_operations_total{migration="sv",side="target",kind="old_kind",outcome="ok"}' 1 ||
    fail "a kind reported only long ago: $(curl -s "$SERVE_URL/metrics" | grep old_kind)"
  metric_is 'segue_app_operations_total{migration="sv",side="source",kind="other",outcome="ok"}' 1 ||
    fail "the event without a kind: $(curl -s "$SERVE_URL/metrics" | grep app_operations)"
  metric_is 'segue_app_latency_seconds_bucket{migration="sv",side="target",kind="get_user",le="0.025"}' 49 &&
    metric_is 'segue_app_latency_seconds_bucket{migration="sv",side="target",kind="get_user",le="0.05"}' 54 ||
    fail "latency buckets: $(curl -s "$SERVE_URL/metrics" | grep 'get_user",le')"
  # a bad event refuses the whole batch, naming it
  curl -s -X POST --data-binary "[$ev,{\"migration\":\"sv\",\"side\":\"up\",\"ok\":true,\"ms\":1}]" \
    -w '\n%{http_code}\n' "$SERVE_URL/api/v1/events" > "$d/r"
  [ "$(tail -1 "$d/r")" = 400 ] && grep -q 'event 1: side' "$d/r" || fail "a bad side: $(cat "$d/r")"
  curl -s -X POST --data-binary '[{"migration":"nope","side":"source","ok":true,"ms":1}]' \
    -w '\n%{http_code}\n' "$SERVE_URL/api/v1/events" > "$d/r"
  [ "$(tail -1 "$d/r")" = 400 ] && grep -q 'event 0: migration' "$d/r" ||
    fail "an unknown migration: $(cat "$d/r")"
  curl -s "$SERVE_URL/metrics" > "$d/metrics"
  promtool check metrics < "$d/metrics" > "$d/promtool" 2>&1 ||
    fail "promtool check metrics: $(head -5 "$d/promtool")"
  serve_stop
  metric_is_after_stop=$(sqlite3 "$d/t.db" "SELECT sum(ok), sum(errors) FROM _segue_app_outcomes WHERE side = 1")
  [ "$metric_is_after_stop" = "38|17" ] || fail "recorded in the control tables: $metric_is_after_stop"
}

# abort removes every table segue made, those made on first use too
# (consistency records, heartbeat arrivals, application outcomes)
test_abort_leaves_no_table_behind() {
  local d; d=$(scratch)
  spec_sv "$d"
  started_caught_up "$d/m.yaml"
  check "verify" $SEGUE verify "$d/m.yaml" >/dev/null 2>&1
  check "a report" "$TOOLS/report_outcomes" "$d/m.yaml" target get_user 1 1 3
  local made; made=$(sqlite3 "$d/t.db" "SELECT count(*) FROM sqlite_schema WHERE type = 'table'
    AND name IN ('_segue_verify_mappings', '_segue_heartbeat', '_segue_app_outcomes')")
  [ "$made" = 3 ] ||
    { fail "the tables made on first use are not all there: $made"; return; }
  check "abort" quiet $SEGUE abort "$d/m.yaml" --reason test
  local left; left=$(sqlite3 "$d/t.db" "SELECT group_concat(name, ' ') FROM sqlite_schema WHERE name LIKE '%segue%'")
  [ -z "$left" ] || fail "abort left in the target: $left"
  left=$(sqlite3 "$d/s.db" "SELECT group_concat(name, ' ') FROM sqlite_schema WHERE name LIKE '%segue%'")
  [ -z "$left" ] || fail "abort left in the source: $left"
}

# one process for small set-ups: the worker serves OFREP and the metrics
test_run_with_http_serves_beside_the_worker() {
  local d w; d=$(scratch)
  spec_sv "$d"
  check "start" $SEGUE start "$d/m.yaml" >/dev/null
  $SEGUE run "$d/m.yaml" --http 127.0.0.1:0 > "$d/serve.out" 2> "$d/run.err" &
  w=$!
  wait_for "segue run --http listens" 30 grep -qs "listening on" "$d/serve.out" || { kill $w; return; }
  SERVE_URL=$(grep -o 'http://[^ ]*' "$d/serve.out" | head -1)
  wait_for "the worker copies" 60 backfill_done "$d/m.yaml"
  ofrep_post /ofrep/v1/evaluate/flags/segue.sv.writes '{}' > "$d/r"
  [ "$(tail -1 "$d/r")" = 200 ] && grep -q '"value":"source"' "$d/r" || fail "OFREP from run --http: $(cat "$d/r")"
  wait_for "run --http's metrics show the worker" 30 metric_is 'segue_worker_up{migration="sv"}' 1
  kill $w; wait $w || fail "segue run --http exited $? on SIGTERM: $(tail -3 "$d/run.err")"
}

# a live writer on the source: inserts and updates until DIR/stop exists
sqlite_writer() { # dir
  local i=0
  while [ ! -e "$1/stop" ]; do
    i=$((i + 1))
    sqlite3 -cmd '.timeout 10000' "$1/s.db" \
      "INSERT INTO Track (TrackId, Name, MediaTypeId, Milliseconds, UnitPrice) VALUES (800000 + $i, 'live $i', 1, 1, 0.99);
       UPDATE Customer SET Company = 'c$i' WHERE CustomerId = $((i % 59 + 1));" || echo "write $i failed"
  done
}
prom_has() { # url query label
  curl -s "$1/api/v1/query" --data-urlencode "query=$2" | grep -q "$3"
}

# whether Prometheus answers ready, or PROM_PID is gone (then PROM_GONE=1)
prom_ready_or_gone() {
  kill -0 "$PROM_PID" 2>/dev/null || { PROM_GONE=1; return 0; }
  curl -sf "http://127.0.0.1:$PROM_PORT/-/ready" >/dev/null
}
# starts Prometheus with DIR/prom.yml on a free port and waits until it is
# ready; a port taken between the probe and the bind gets a new one (3 tries).
# Sets PROM_PID and PROM_PORT.
prom_start() { # dir
  local try
  for try in 1 2 3; do
    PROM_PORT=$(pg_free_port) PROM_GONE=
    prometheus --config.file="$1/prom.yml" --storage.tsdb.path="$1/prom$try" \
      --web.listen-address="127.0.0.1:$PROM_PORT" > "$1/prom.log" 2>&1 &
    PROM_PID=$!
    wait_for "Prometheus is ready" 60 prom_ready_or_gone || { kill $PROM_PID; wait $PROM_PID; return 1; }
    [ -z "$PROM_GONE" ] && return 0
    wait $PROM_PID
  done
  fail "Prometheus did not start: $(tail -5 "$1/prom.log")"
  return 1
}

# the migration's spec with a prometheus gate check: its state and value
# in `segue gates` are the query's, asked of the server at url
prom_gate() { # dir url query max state
  { cat "$1/m.yaml"; printf 'gates:\n  checks:\n    prometheus: {url: "%s", query: %s, max: %s}\n' \
      "$2" "'$3'" "$4"; } > "$1/gated.yaml"
  local g; g=$($SEGUE gates "$1/gated.yaml" --json | jq -c '.checks[] | select(.name == "prometheus")')
  [ "$(echo "$g" | jq -r .state)" = "$5" ] || fail "prometheus gate on $3 (max $4): $g"
  if [ "$5" = inconclusive ]; then
    echo "$g" | jq -r .detail | grep -q "no series" || fail "no series: $g"
  else
    [ "$(echo "$g" | jq -r '.value | type')" = number ] || fail "no value: $g"
  fi
}

test_prometheus_scrapes_a_live_migration() {
  command -v prometheus >/dev/null || { fail "prometheus is missing (make setup installs it)"; return; }
  local d; d=$(scratch)
  spec_sv "$d"
  check "start" $SEGUE start "$d/m.yaml" >/dev/null
  sqlite_writer "$d" > "$d/writer.log" 2>&1 &
  local writer=$! worker port prom
  $SEGUE run "$d/m.yaml" > "$d/run.log" 2>&1 &
  worker=$!
  serve_start "$d" "$d/m.yaml" --listen 127.0.0.1:0 || { touch "$d/stop"; kill $worker; return; }
  cat > "$d/prom.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: segue
    static_configs: [{targets: ["${SERVE_URL#http://}"]}]
YAML
  prom_start "$d" || { touch "$d/stop"; kill $worker; wait $writer $worker; serve_stop; return; }
  prom=$PROM_PID port=$PROM_PORT
  wait_for "Prometheus has segue_lag_seconds for the migration" 60 \
    prom_has "http://127.0.0.1:$port" 'segue_lag_seconds{migration="sv"}' '"migration":"sv"'
  wait_for "Prometheus has the backlog for the migration" 30 \
    prom_has "http://127.0.0.1:$port" 'segue_changelog_backlog{migration="sv"}' '"migration":"sv"'
  wait_for "Prometheus saw the backfill copy rows" 60 \
    prom_has "http://127.0.0.1:$port" 'max_over_time(segue_backfill_rows{migration="sv"}[5m]) > 0' '"migration":"sv"'
  # the same Prometheus as a gate: a check that holds and one that fails
  prom_gate "$d" "http://127.0.0.1:$port" 'segue_lag_seconds{migration="sv"}' 3600 pass
  prom_gate "$d" "http://127.0.0.1:$port" 'segue_lag_seconds{migration="sv"} + 7200' 3600 fail
  prom_gate "$d" "http://127.0.0.1:$port" 'segue_lag_seconds{migration="nosuch"}' 1 inconclusive
  kill -0 $prom 2>/dev/null || fail "Prometheus exited during the test: $(tail -5 "$d/prom.log")"
  kill $prom 2>/dev/null; wait $prom 2>/dev/null
  touch "$d/stop"; wait $writer
  [ -s "$d/writer.log" ] && fail "the live writer failed: $(head -3 "$d/writer.log")"
  kill $worker; wait $worker 2>/dev/null
  serve_stop
}

# a source that refuses the heartbeat's table (here: a view holds its name)
# leaves a warning, not a failed start or worker; the worker tries again
# less and less often, not every round
test_heartbeat_refused_leaves_the_migration_going() {
  local d; d=$(scratch)
  spec_sv "$d"
  sqlite3 "$d/s.db" "CREATE VIEW _segue_hb_sv AS SELECT 1 AS id, 2 AS written_ms"
  $SEGUE start "$d/m.yaml" > "$d/start.out" 2>&1 || { fail "start refused: $(cat "$d/start.out")"; return; }
  grep -q "no heartbeat: .*view" "$d/start.out" || fail "start said nothing: $(cat "$d/start.out")"
  timeout 60 $SEGUE run "$d/m.yaml" --until caught-up > "$d/run.log" 2>&1 ||
    fail "the worker failed: $(tail -3 "$d/run.log")"
  [ "$(grep -c 'heartbeat:' "$d/run.log")" -le 2 ] ||
    fail "the worker warned every round: $(grep -c 'heartbeat:' "$d/run.log") warnings"
  [ "$(heartbeat_lag "$d/m.yaml")" = null ] || fail "a heartbeat lag without a heartbeat"
  [ "$(phase_of_sv "$d/m.yaml")" = backfilled ] || fail "phase $(phase_of_sv "$d/m.yaml")"
  sqlite3 "$d/s.db" "DROP VIEW _segue_hb_sv"
  check "abort" quiet $SEGUE abort "$d/m.yaml" --reason test
}
phase_of_sv() { $SEGUE status "$1" --json | jq -r .phase; }

seen_after() { # target-db ms: whether a beat written after ms arrived
  [ -n "$(sqlite3 -cmd '.timeout 30000' "$1" "SELECT 1 FROM seen WHERE beat > $2 LIMIT 1")" ]
}
# A beat arrives only after every change captured before it: a trigger on
# the target's table of arrivals records, at the moment of each arrival,
# how many rows already hold a change made before the worker started.
# Without the ordering the first beat lands after the first batch (1000 of
# 3503 keys). Then the lag in status, /metrics and the dashboard; a worker
# that stops shows a growing lag; abort removes the table from the source.
test_heartbeat_arrives_after_the_changes_before_it() {
  local d worker; d=$(scratch)
  spec_sv "$d"
  started_caught_up "$d/m.yaml"
  [ "$(heartbeat_lag "$d/m.yaml")" != null ] || fail "no heartbeat after a caught-up run"
  sqlite3 "$d/t.db" "CREATE TABLE seen (beat INTEGER, done INTEGER);
    CREATE TRIGGER seen_i AFTER INSERT ON _segue_heartbeat BEGIN INSERT INTO seen
      SELECT NEW.beat, (SELECT count(*) FROM track_v2 WHERE Composer = 'hb'); END;
    CREATE TRIGGER seen_u AFTER UPDATE ON _segue_heartbeat BEGIN INSERT INTO seen
      SELECT NEW.beat, (SELECT count(*) FROM track_v2 WHERE Composer = 'hb'); END;" ||
    { fail "trigger on the arrivals"; return; }
  local t0; t0=$(date +%s%3N)
  sqlite3 "$d/s.db" "UPDATE Track SET Milliseconds = Milliseconds + 1; UPDATE Track SET Composer = 'hb'"
  $SEGUE run "$d/m.yaml" > "$d/run.log" 2>&1 &
  worker=$!
  wait_for "a beat written after the changes arrives" 60 seen_after "$d/t.db" "$t0"
  local early; early=$(sqlite3 -cmd '.timeout 30000' "$d/t.db" "SELECT count(*) || ' beats, the
    first with ' || coalesce(min(done), '-') || ' rows' FROM seen WHERE beat > $t0 AND done < 3503")
  case "$early" in 0\ *) ;; *) fail "a beat arrived before the changes made before it: $early";; esac
  wait_for "a small heartbeat lag once caught up" 30 heartbeat_lag_below "$d/m.yaml" 2000
  serve_start "$d" "$d/m.yaml" --listen 127.0.0.1:0 || { kill $worker; return; }
  wait_for "the heartbeat lag in /metrics" 30 metric_has 'segue_heartbeat_lag_seconds{migration="sv"} [0-9.e+-]*'
  dashboard_dom "$d" | grep -q 'data-field="heartbeat_lag">[0-9.]* s<' ||
    fail "the dashboard shows no heartbeat lag"
  kill $worker; wait $worker 2>/dev/null
  wait_for "a growing heartbeat lag once the worker stopped" 30 heartbeat_lag_above "$d/m.yaml" 3000
  serve_stop
  check "abort" quiet $SEGUE abort "$d/m.yaml" --reason test
  [ -z "$(sqlite3 "$d/s.db" "SELECT name FROM sqlite_schema WHERE name LIKE '%hb%'")" ] ||
    fail "abort left the heartbeat on the source"
}

# continuous reconciliation waits while the apply is behind: a worker
# stopped between rounds holds the lease, so nothing is applied; a second
# worker waits for the lease, its reconciliation thread running meanwhile.
# Once the lag is past gates.max_lag no pass starts; when the first worker
# goes, the second applies and a pass runs
lag_above() { # spec ms
  local l; l=$($SEGUE status "$1" --json | jq -r .lag_ms)
  [ "$l" != null ] && [ "$l" -gt "$2" ]
}
test_reconciliation_waits_while_the_apply_is_behind() {
  local d worker first; d=$(scratch)
  spec_sv "$d"
  printf 'verify:\n  every: 1s\n' >> "$d/m.yaml"
  started_caught_up "$d/m.yaml"
  stopped_at "$d/m.yaml" worker:round run "$d/first.log" || return
  first=$STOPPED
  sqlite3 -cmd '.timeout 30000' "$d/s.db" "UPDATE Track SET Milliseconds = Milliseconds + 1 WHERE TrackId < 50"
  wait_for "a lag past 1.5 s" 30 lag_above "$d/m.yaml" 1500 || { kill -9 $first; return; }
  $SEGUE run "$d/m.yaml" --wait > "$d/run.log" 2>&1 &
  worker=$!
  wait_for "reconciliation waits for the apply" 60 grep -q "reconciliation: waits for the apply to catch up" "$d/run.log"
  ! grep -qE "reconciliation: (a full pass|differences persist|the pass failed)" "$d/run.log" ||
    fail "a pass ran while the apply was behind: $(grep reconciliation "$d/run.log" | head -3)"
  kill $first; kill -CONT $first; wait $first 2>/dev/null
  wait_for "a pass once the apply caught up" 60 grep -q "reconciliation: a full pass found no difference" "$d/run.log"
  kill $worker; wait $worker 2>/dev/null
}

# the dashboard as headless Chromium renders it (the DOM after load)
dashboard_dom() { # dir
  timeout 60 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$1/chrome" \
    --dump-dom "$SERVE_URL/" 2>/dev/null
}
# "field=value" for each data-field cell of a mapping's row in the dashboard
dashboard_row() { # dir mapping
  local html; html=$(printf '%s' "$2" | sed 's/>/\&gt;/g')
  dashboard_dom "$1" | tr '\n' ' ' | sed 's/<tr/\n<tr/g' | grep -F "$html<" |
    grep -o 'data-field="[a-z_]*">[^<]*' | sed 's/data-field="\([a-z_]*\)">/\1=/'
}
# the same fields from /api/v1/consistency
api_row() { # mapping
  curl -s "$SERVE_URL/api/v1/consistency" | sed 's/},{/}\n{/g' | grep -F "\"mapping\":\"$1\"" |
    sed -n 's/.*"source_rows":\([0-9]*\),"target_rows":\([0-9]*\),.*"differences":\([0-9]*\),"keys":"\([^"]*\)".*/source_rows=\1 target_rows=\2 differences=\3 keys=\4/p'
}
# the dashboard's cells for a mapping equal the API's, read before and after
# the page (a pass that lands meanwhile makes it try again)
dashboard_equals_api() { # dir mapping
  local before got after
  before=$(api_row "$2")
  got=$(dashboard_row "$1" "$2" | grep -E '^(source_rows|target_rows|differences|keys)=' | tr '\n' ' ')
  after=$(api_row "$2")
  [ -n "$before" ] && [ "$before" = "$after" ] && [ "$got" = "$before " ]
}
dashboard_has() { # dir mapping field=value
  dashboard_row "$1" "$2" | grep -qxF "$3"
}

# continuous reconciliation (verify: every) under a live writer, seen in
# the dashboard as headless Chromium renders it
test_dashboard_in_chromium_shows_what_reconciliation_finds() {
  command -v chromium >/dev/null || { fail "chromium is missing (make setup installs it)"; return; }
  local d map='Track -> track_v2' clean1 clean2; d=$(scratch)
  spec_sv "$d"
  printf 'verify:\n  every: 5s\n  max_rows_per_second: 100000\n' >> "$d/m.yaml"
  check "start" $SEGUE start "$d/m.yaml" >/dev/null
  sqlite_writer "$d" > "$d/writer.log" 2>&1 &
  local writer=$! worker
  $SEGUE run "$d/m.yaml" > "$d/run.log" 2>&1 &
  worker=$!
  serve_start "$d" "$d/m.yaml" --listen 127.0.0.1:0 || { touch "$d/stop"; kill $worker; return; }
  # no verify by hand: the worker's background passes fill the table
  wait_for "a clean full pass in the dashboard" 120 dashboard_reconciled "$d" "$map"
  wait_for "the dashboard equals /api/v1/consistency" 90 dashboard_equals_api "$d" "$map"
  clean1=$(dashboard_row "$d" "$map" | sed -n 's/^last_full_clean=//p')
  [ "$clean1" != never ] || fail "no last full reconciliation after a clean pass"
  # three rows the live writer does not touch, corrupted in the target
  as_segue "$d/t.db" "UPDATE track_v2 SET Name = 'corrupt' WHERE TrackId IN (10, 20, 30)"
  wait_for "the next pass shows 3 differences and their keys" 60 \
    dashboard_has "$d" "$map" "keys=(10), (20), (30)"
  dashboard_has "$d" "$map" "differences=3" || fail "differences: $(dashboard_row "$d" "$map")"
  wait_for "the dashboard equals /api/v1/consistency" 90 dashboard_equals_api "$d" "$map"
  timeout 60 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$d/chrome" \
    --window-size=1280,1000 --screenshot="$d/dashboard.png" "$SERVE_URL/" >/dev/null 2>&1
  [ -s "$d/dashboard.png" ] && echo "    dashboard screenshot (3 differences): $d/dashboard.png" ||
    fail "no screenshot"
  check "verify --repair" quiet $SEGUE verify "$d/m.yaml" --repair
  wait_for "the differences are gone from the dashboard" 60 dashboard_has "$d" "$map" "differences=0"
  clean2=$(dashboard_row "$d" "$map" | sed -n 's/^last_full_clean=//p')
  [[ "$clean2" > "$clean1" ]] || fail "the last full reconciliation did not move: '$clean1' then '$clean2'"
  grep -q "reconciliation: differences persist" "$d/run.log" ||
    fail "the worker did not say the differences: $(grep reconciliation "$d/run.log" | tail -3)"
  touch "$d/stop"; wait $writer
  [ -s "$d/writer.log" ] && fail "the live writer failed: $(head -3 "$d/writer.log")"
  kill $worker; wait $worker 2>/dev/null
  serve_stop
}
quiet() { "$@" > /dev/null 2>&1; }
dashboard_reconciled() { # dir mapping
  dashboard_row "$1" "$2" | grep -q '^last_full_clean=[0-9]'
}
backfill_done() { $SEGUE status "$1" --json 2>/dev/null | grep -q '"backfill_complete":true'; }

. tests/lib/pg.sh   # pg_free_port
run_tests
