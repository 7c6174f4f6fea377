#!/usr/bin/env bash
# End-to-end: awkward names and values survive the whole playbook (backfill
# under writes, verify, cutover, writes on the target, rollback), in one file
# and in two. Values are compared with quote(), which tells 0 from 0.0 from
# '0' and keeps every bit of a float, independently of segue's verify.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

SRC='"odd ""table"" ñame"'
TGT='"ödd ""target"" table"'
UNI='"ünï ""q"""'

seed() { # db
  sqlite3 "$1" >/dev/null <<SQL
PRAGMA journal_mode=WAL;
CREATE TABLE $SRC ("group" TEXT NOT NULL, "row id" INTEGER NOT NULL, $UNI TEXT,
  "select" BLOB, big INTEGER, f REAL, anyv, PRIMARY KEY ("group", "row id"));
INSERT INTO $SRC VALUES
  ('a', 1, 'plain', x'00ff00', 9223372036854775807, 1.5, 0),
  ('a ', 1, 'key with a trailing space', x'', -9223372036854775808, -2.5e-300, 0.0),
  ('', 2, '', NULL, 0, 1.7976931348623157e308, '0'),
  ('😀', 3, '😀 emoji ✓ ‘quotes’ "dq" ''sq''', randomblob(1000), NULL, 0.1, NULL),
  ('NULL', 4, NULL, NULL, NULL, 4.9e-324, ''),
  ('big', 5, replace(hex(randomblob(524288)), 'A', 'ä'), zeroblob(100000), 1, 3.141592653589793, x'00');
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
INSERT INTO $SRC SELECT 'k' || (i % 7), i, 'v' || i, randomblob(i % 20), i * 1000003, i / 7.0,
  CASE i % 3 WHEN 0 THEN i WHEN 1 THEN 'i' || i ELSE i * 0.5 END FROM n;
SQL
}

spec() { # dir source target
cat > "$1/m.yaml" <<YAML
version: 1
name: edge
source: sqlite:$2
target: sqlite:$3
mappings:
  - from: 'odd "table" ñame'
    to: 'ödd "target" table'
    create: true
    columns:
      'order': '"group"'
      'row id': '"row id"'
      'ünï "q"': '"ünï ""q"""'
      'select': '"select"'
      big: big
      f: f
      anyv: anyv
      'f x2': 'f * 2'
backfill:
  chunk_time: 20ms
YAML
}

# inserts, updates, deletes and key changes on awkward values
edge_writes() { # db n
  for i in $(seq 1 "$2"); do
    echo "INSERT INTO $SRC VALUES ('new 😀 $i', $i, 'ins ''$i''', x'0102', -9223372036854775808 + $i, -0.0, '');
      UPDATE $SRC SET $UNI = 'upd ✓ $i', anyv = 0.0 WHERE \"row id\" = $((i * 13));
      UPDATE $SRC SET \"select\" = randomblob(64), big = 9223372036854775807 - $i WHERE \"row id\" = $((i * 11));
      DELETE FROM $SRC WHERE \"row id\" = $((i * 17 + 1));
      UPDATE $SRC SET \"group\" = \"group\" || ' ' WHERE \"row id\" = $((i * 19 + 2));"
  done
  echo "UPDATE $SRC SET $UNI = $UNI || '!' WHERE \"group\" = 'big'"
}

# rows of mapping(source) EXCEPT target plus the other way round, by quote()
edge_diff() { # srcdb tgtdb
  local t=main; [ "$1" = "$2" ] || t=t
  sqlite3 "$1" "ATTACH '$2' AS t;
    WITH s AS (SELECT quote(\"group\"), quote(\"row id\"), quote($UNI), quote(\"select\"),
                      quote(big), quote(f), quote(anyv), quote(f * 2) FROM main.$SRC),
         g AS (SELECT quote(\"order\"), quote(\"row id\"), quote($UNI), quote(\"select\"),
                      quote(big), quote(f), quote(anyv), quote(\"f x2\") FROM $t.$TGT)
    SELECT (SELECT count(*) FROM (SELECT * FROM s EXCEPT SELECT * FROM g))
         + (SELECT count(*) FROM (SELECT * FROM g EXCEPT SELECT * FROM s))"
}

edge_playbook() { # same|two
  local d; d=$(scratch); seed "$d/src.db"
  local tgt="$d/tgt.db"; [ "$1" = same ] && tgt="$d/src.db"
  spec "$d" "$d/src.db" "$tgt"
  check "start ($1)" $SEGUE start "$d/m.yaml" >/dev/null
  edge_writes "$d/src.db" 60 | sqlite3 -cmd '.timeout 60000' "$d/src.db" &
  local wpid=$!
  check "backfill ($1)" $SEGUE backfill "$d/m.yaml" >/dev/null
  wait $wpid || fail "writer ($1)"
  check "run ($1)" $SEGUE run "$d/m.yaml" --until caught-up >/dev/null
  check "verify ($1)" $SEGUE verify "$d/m.yaml" >/dev/null
  local n; n=$(edge_diff "$d/src.db" "$tgt")
  [ "$n" = 0 ] || fail "independent diff ($1 file): $n"

  # verify tells 0 from 0.0 from '0', NULL from '', and sees one byte in 1 MB
  as_segue "$tgt" "UPDATE $TGT SET anyv = 0.0 WHERE \"order\" = 'a' AND \"row id\" = 1;
    UPDATE $TGT SET anyv = '0' WHERE \"order\" = 'a ' AND \"row id\" = 1;
    UPDATE $TGT SET anyv = 0 WHERE \"order\" = '' AND \"row id\" = 2;
    UPDATE $TGT SET anyv = NULL WHERE \"order\" = 'NULL';
    UPDATE $TGT SET $UNI = substr($UNI, 1, 500000) || 'Z' || substr($UNI, 500002) WHERE \"order\" = 'big'" ||
    fail "inject ($1)"
  local out rc; out=$($SEGUE verify "$d/m.yaml" --json 2>/dev/null); rc=$?
  [ $rc = 3 ] || fail "verify after injection exit $rc ($1)"
  for k in "('a', 1)" "('a ', 1)" "('', 2)" "('NULL', 4)" "('big', 5)"; do
    echo "$out" | grep -qF "\"key\":\"$k\",\"kind\":\"different\"" || fail "verify did not name $k ($1): $out"
  done
  [ "$(echo "$out" | grep -o '"key"' | wc -l)" = 5 ] || fail "verify named other keys ($1): $out"
  check "repair ($1)" $SEGUE verify "$d/m.yaml" --repair >/dev/null
  n=$(edge_diff "$d/src.db" "$tgt"); [ "$n" = 0 ] || fail "independent diff after repair ($1): $n"

  # writes on the target after the cutover come back with the rollback
  check "reads ($1)" with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --reads 100 >/dev/null
  check "writes ($1)" with_worker "$d/m.yaml" $SEGUE cutover "$d/m.yaml" --writes >/dev/null
  sqlite3 "$tgt" "INSERT INTO $TGT VALUES ('after ✓ ''x''', -9223372036854775808, 'α', x'00',
      9223372036854775807, -1e-310, 0.0, NULL);
    UPDATE $TGT SET $UNI = replace(hex(randomblob(600000)), 'B', '😀'), anyv = '0'
      WHERE \"order\" = 'a ' AND \"row id\" = 1;
    UPDATE $TGT SET \"order\" = 'a  ' WHERE \"order\" = 'a' AND \"row id\" = 1;
    DELETE FROM $TGT WHERE \"order\" = ''" || fail "target writes ($1)"
  check "rollback ($1)" $SEGUE rollback "$d/m.yaml" >/dev/null
  local got; got=$(sqlite3 "$d/src.db" "SELECT quote(\"group\"), length($UNI), quote(anyv), quote(f)
    FROM $SRC WHERE \"row id\" IN (1, 2, -9223372036854775808) AND \"group\" NOT LIKE 'k%'
      AND \"group\" NOT LIKE 'new%' ORDER BY 1")
  local want="'a  '|5|0|1.5
'a '|1200000|'0'|-2.5e-300
'after ✓ ''x'''|1|0.0|-9.99999999999997e-311"
  [ "$got" = "$want" ] || fail "rollback did not bring back the target writes ($1): $got"
  [ "$(sqlite3 "$d/src.db" "SELECT count(*) FROM $SRC WHERE \"group\" = ''")" = 0 ] ||
    fail "delete on the target lost ($1)"
}
test_edge_two_files() { edge_playbook two; }
test_edge_same_file() { edge_playbook same; }

# across two files the copy runs inside the target's engine with the source
# attached, except for a mapping whose expression reads another table: the
# target's own table of that name must not answer for the source's
test_edge_two_files_expression_reads_the_source() {
  local d; d=$(scratch); fresh_chinook "$d/src.db"
  sqlite3 "$d/tgt.db" "CREATE TABLE Genre (GenreId INTEGER PRIMARY KEY, Name TEXT);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
    INSERT INTO Genre SELECT i, 'the target''s genre' FROM n;"
  cat > "$d/m.yaml" <<YAML
version: 1
name: attach
source: sqlite:$d/src.db
target: sqlite:$d/tgt.db
mappings:
  - from: Track
    to: track_genre
    create: true
    columns:
      track_id: TrackId
      genre: {expr: "(SELECT g.Name FROM Genre g WHERE g.GenreId = Track.GenreId)", type: TEXT}
    reverse: none
  - from: InvoiceLine
    to: invoice_line
    create: true
YAML
  check "start" $SEGUE start "$d/m.yaml" >/dev/null
  check "backfill" $SEGUE backfill "$d/m.yaml" >/dev/null
  local diff; diff=$(sqlite3 "$d/src.db" "ATTACH '$d/tgt.db' AS t;
    SELECT (SELECT count(*) FROM (SELECT tr.TrackId, g.Name FROM Track tr LEFT JOIN Genre g USING (GenreId)
              EXCEPT SELECT track_id, genre FROM t.track_genre))
         + (SELECT count(*) FROM (SELECT * FROM InvoiceLine EXCEPT SELECT * FROM t.invoice_line))
         + (SELECT count(*) FROM (SELECT * FROM t.invoice_line EXCEPT SELECT * FROM InvoiceLine))")
  [ "$diff" = 0 ] || fail "$diff rows differ from the source's own join and rows"
  check "verify" $SEGUE verify "$d/m.yaml" >/dev/null
}

run_tests
