#!/usr/bin/env bash
# The docs cannot drift from the tool. Every fenced code block of README.md,
# docs/*.md and examples/README.md that is a command is either run here
# (```sh: a file's blocks run in order, as one shell script, in a fresh
# directory, with `segue` on PATH and the server the file needs) or marked
# ```sh illustrative (with the reason beside it); a block of another kind
# that holds a command, or an indented code block, fails. The routing
# page's JavaScript reproduces its test vectors and live buckets; every
# message the troubleshooting page quotes is one the code can print; the
# runbook page names every section `segue runbook` writes.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
. tests/lib/pg.sh
. tests/e2e/pg_lib.sh
TOOLS=$(dirname "$SEGUE")/tools
DOCS="README.md $(ls docs/*.md) examples/README.md"

# the fenced blocks of a file, one per line: "LINE<TAB>INFO<TAB>FIRST",
# FIRST being the block's first line that is neither blank nor a comment
fences() { # file
  awk 'BEGIN { OFS = "\t" }
       /^```/ { if (!on) { on = 1; info = substr($0, 4); start = NR; first = "" }
                else { on = 0; print start, info, first } next }
       on && first == "" && $0 !~ /^[ \t]*(#|$)/ { first = $0 }' "$1"
}
# the body of every ```sh block of a file, not illustrative, in order
runnable() { # file
  awk '/^```/ { if (!on) { on = 1; run = ($0 == "```sh") } else { on = 0; run = 0 } next }
       on && run' "$1"
}
# the lines of the file's ```KIND blocks (exactly that info string), in
# order; with `first`, of the first such block only
blocks_of() { # kind file [first]
  awk -v k="$1" -v first="${3:-}" '$0 == "```" k { on = 1; next }
       /^```$/ { if (on && first) exit; on = 0 } on' "$2"
}
# a line that starts a command a reader would type
# (not segue's own messages, "segue cutover: ...")
COMMAND='^(\$ )?(sudo )?((build/)?segue( [a-z-]+( |$)|$)|(make|cc|gcc|psql|pgbench|createdb|dropdb|sqlite3|curl|node|npm|dpkg|dpkg-buildpackage|kill|wait|until|cat|export|\./)( |$))'

test_every_command_block_is_run_or_marked() {
  local f line info first n=0 runs=0 marked=0
  for f in $DOCS; do
    [ -f "$f" ] || { fail "no $f"; continue; }
    while IFS=$'\t' read -r line info first; do
      n=$((n + 1))
      case $info in
        sh) runs=$((runs + 1)); grep -qx "$f" <<< "$RUN_DOCS" ||
              fail "$f:$line: a \`\`\`sh block, but no test runs $f's blocks (add it to RUN_DOCS)";;
        "sh illustrative"*) marked=$((marked + 1));;
        *) echo "$first" | grep -qE "$COMMAND" &&
             fail "$f:$line: a command in a \`\`\`$info block: make it \`\`\`sh (run by test_docs) or \`\`\`sh illustrative";;
      esac
    done < <(fences "$f")
    # an indented code block (after a blank line, outside fences) holding a command
    awk -v f="$f" -v re="$COMMAND" '/^```/ { on = !on; next }
         !on && prev == "" && /^    [^ -*]/ { s = substr($0, 5); if (s ~ re) print f ":" NR ": " s }
         { prev = $0 }' "$f" > /tmp/segue-docs-indented.$$
    [ ! -s /tmp/segue-docs-indented.$$ ] ||
      fail "indented code blocks hold commands (fence them, \`\`\`sh or \`\`\`sh illustrative): $(head -3 /tmp/segue-docs-indented.$$)"
  done
  rm -f /tmp/segue-docs-indented.$$
  echo "docs: $n fenced blocks, $runs run, $marked illustrative" >&2
  [ $runs -ge 10 ] || fail "only $runs blocks run"
}

# runs a file's ```sh blocks as one script in a fresh directory beside a
# link to the shared datasets (../shared/data, as in the repository), with
# `segue` on PATH; sets W to the directory
run_doc() { # file
  local d; d=$(scratch); W=$d/work
  mkdir -p "$W" "$d/bin"
  ln -s "$(realpath "$(shared_data .)/..")" "$d/shared"
  ln -s "$(realpath "$SEGUE")" "$d/bin/segue"
  runnable "$1" > "$d/doc.sh"
  [ -s "$d/doc.sh" ] || { fail "$1 has no \`\`\`sh block"; return 1; }
  (cd "$W" && PATH="$d/bin:$PATH" timeout 600 bash -e -o pipefail "$d/doc.sh" > "$d/doc.out" 2>&1) ||
    { fail "$1's commands stopped (exit $?): $(tail -8 "$d/doc.out")"; return 1; }
}

RUN_DOCS="README.md
docs/tutorial.md
docs/runbook.md"

# the README's quick start: a Chinook migration from start to cleanup
test_the_readme_commands_run() {
  run_doc README.md || return
  local segue; segue=$(realpath "$SEGUE")
  [ "$(cd "$W" && $segue status migration.yaml --json | jq -r .phase)" = cleaned ] ||
    fail "not cleaned up: $(cd "$W" && $segue status migration.yaml 2>&1)"
  local n; n=$(sqlite3 "$W/chinook-v2.db" "SELECT count(*) FROM customer" 2>&1)
  [ "$n" = 59 ] || fail "customer rows: $n"
}

# the runbook page's example: the runbook it writes has the sections the
# page explains, each of its headings, with the first three phases ticked
test_the_runbook_page_runs_and_explains_every_section() {
  local h
  run_doc docs/runbook.md || return
  [ "$(grep -c '^- \[x\]' "$W/runbook.md")" = 3 ] || fail "ticked: $(grep '^- \[' "$W/runbook.md")"
  [ "$(grep -c '^- \[ \] read step' "$W/runbook.md")" = 4 ] || fail "read steps: $(grep 'read step' "$W/runbook.md")"
  while IFS= read -r h; do
    grep -qx "### ${h#\#\# }" docs/runbook.md || fail "docs/runbook.md does not explain the section $h"
  done < <(grep '^## ' "$W/runbook.md")
  [ "$(grep -c '^## ' "$W/runbook.md")" -ge 3 ] || fail "the runbook has $(grep -c '^## ' "$W/runbook.md") sections"
  # the page shows what the tool writes, but for the times and names
  local same='s/done [0-9T:.-]*Z by [^ ]*/done TIME by WHO/'
  diff <(sed "$same" "$W/runbook.md") \
       <(blocks_of text docs/runbook.md | sed "$same") \
       > "$W/runbook.diff" || fail "docs/runbook.md's example differs from what segue runbook writes: $(head -6 "$W/runbook.diff")"
}

# the PostgreSQL tutorial, on this file's own server, reached through
# libpq's variables as the tutorial says
test_the_tutorial_runs_under_pgbench() {
  shared_pg || { fail "no PostgreSQL server"; return; }
  psql -Xq "$PG_URI" -c "DROP DATABASE IF EXISTS bank" > /dev/null 2>&1
  PGHOST=127.0.0.1 PGPORT=$PG_PORT PGUSER=postgres run_doc docs/tutorial.md || return
  # what the tutorial says, checked apart from its own commands
  grep -q "number of failed transactions: 0 " "$W/pgbench-v2.log" ||
    fail "the new application's pgbench: $(grep -E 'failed|processed' "$W/pgbench-v2.log")"
  local uri="postgresql://postgres@127.0.0.1:$PG_PORT/bank"
  # the first pgbench wrote while the migration went on (the second one's
  # 2000 transactions are not all there is)
  [ "$(psql -XAtq "$uri" -c "SELECT count(*) > 2000 FROM pgbench_history")" = t ] ||
    fail "the first pgbench wrote nothing during the migration"
  [ "$(psql -XAtq "$uri" -c "SELECT count(*) FROM accounts_v2")" = 500000 ] || fail "accounts_v2 rows"
  [ "$(psql -XAtq "$uri" -c "SELECT to_regclass('pgbench_accounts') IS NULL")" = t ] ||
    fail "the old table is still there after cleanup --drop-source"
  [ "$(psql -XAtq "$uri" -c "SELECT count(*) FROM pg_trigger WHERE tgname LIKE '\_segue%'")" = 0 ] ||
    fail "triggers left after cleanup"
}

# docs/routing.md's JavaScript, as a reader copies it, gives the page's
# bucket for every test vector, and so does the C library; on a live
# migration at 37.5 % it gives each of 2000 keys the bucket and the side
# `segue route` gives
test_the_routing_page_reproduces_every_bucket() {
  local d n bad salt; d=$(scratch)
  [ -d tests/e2e/routing/node_modules/hash-wasm ] ||
    (cd tests/e2e/routing && npm ci --no-audit --no-fund --loglevel=error > /dev/null 2>&1) ||
    { fail "npm ci in tests/e2e/routing failed"; return; }
  node tests/e2e/routing/vectors.mjs docs/routing.md vectors > "$d/v.tsv" ||
    { fail "the page's JavaScript: $(cat "$d/v.tsv")"; return; }
  n=$(wc -l < "$d/v.tsv")
  [ "$n" -ge 30 ] || fail "only $n test vectors read from docs/routing.md"
  bad=$(awk -F'\t' '$3 != $4' "$d/v.tsv" | head -3)
  [ -z "$bad" ] || fail "the page's JavaScript disagrees with its vectors: $bad"
  cut -f1,2 "$d/v.tsv" | tr '\t' ' ' | "$TOOLS/route_bucket" > "$d/c.txt" || fail "route_bucket"
  bad=$(paste <(cut -f3 "$d/v.tsv") "$d/c.txt" | awk '$1 != $2' | head -3)
  [ -z "$bad" ] || fail "sg_route_bucket disagrees with the page's vectors (page, C): $bad"
  # a live migration: its own salt, from `segue route --json`
  fresh_chinook "$d/s.db"
  example_spec same-database "$d/m.yaml" "sqlite:$d/s.db" "sqlite:$d/t.db"
  started_caught_up "$d/m.yaml"
  check "verify" $SEGUE verify "$d/m.yaml" > /dev/null
  check "reads 37.5" $SEGUE cutover "$d/m.yaml" --reads 37.5 --force --reason test > /dev/null
  salt=$($SEGUE route "$d/m.yaml" k --json | jq -r .salt)
  [[ $salt =~ ^[0-9a-f]{32}$ ]] || { fail "segue route --json shows no salt: $salt"; return; }
  seq 1 2000 | sed 's/^/user-/' > "$d/keys"
  node tests/e2e/routing/vectors.mjs docs/routing.md keys "$salt" 37.5 < "$d/keys" |
    tr '\t' ' ' > "$d/js.txt"
  $SEGUE route "$d/m.yaml" --keys "$d/keys" |
    sed -n 's/^key \(.*\) (bucket \([0-9]*\)): read from \([a-z]*\),.*/\1 \2 \3/p' > "$d/route.txt"
  [ "$(wc -l < "$d/route.txt")" = 2000 ] || fail "segue route answered $(wc -l < "$d/route.txt") keys"
  cmp -s "$d/js.txt" "$d/route.txt" ||
    fail "the page's JavaScript and segue route differ: $(diff "$d/js.txt" "$d/route.txt" | head -4)"
  n=$(grep -c ' target$' "$d/route.txt")
  [ "$n" -gt 600 ] && [ "$n" -lt 900 ] || fail "$n of 2000 keys on the target at 37.5 %"
}

# the phase rules of src/lib/state/phase.c, one per line: "NAME|FROM|TO",
# FROM the phases it is allowed in (sorted, comma-separated), TO the phase
# it moves to ("-1": it decides); the first rule of each name
phase_rules() {
  local bw line name from to
  bw=$(sed -n '/^#define BEFORE_WRITES/,/^$/p' src/lib/state/phase.c | grep -o 'SG_PH(SG_PHASE_[A-Z_]*)' | tr '\n' ' ')
  awk '/^ *\[SG_CMD_[A-Z_]*\] = \{/ { r = "" ; on = 1 } on { r = r " " $0 } on && /\},$/ { print r; on = 0 }' \
      src/lib/state/phase.c |
    while read -r line; do
      line=${line//BEFORE_WRITES/$bw}
      name=$(echo "$line" | sed 's/^[^"]*"\([^"]*\)".*/\1/')
      from=$(echo "$line" | grep -o 'SG_PH(SG_PHASE_[A-Z_]*)' | sed 's/SG_PH(SG_PHASE_\(.*\))/\1/' |
             tr 'A-Z' 'a-z' | sort | paste -sd, -)
      to=$(echo "$line" | sed 's/.*,[[:space:]]*\([A-Z_0-9-]*\)[[:space:]]*},$/\1/; s/^SG_PHASE_//' | tr 'A-Z' 'a-z')
      echo "$name|$from|$to"
    done | awk -F'|' '!seen[$1]++'
}
# docs/cli.md's table of phases, as phase_rules prints it
documented_rules() {
  sed -n '/^| command | allowed in | moves to |$/,/^$/p' docs/cli.md | grep '^| `' |
    while IFS='|' read -r _ name from to _; do
      name=$(echo "$name" | sed 's/^ *`\(.*\)` *$/\1/')
      from=$(echo "$from" | tr -d ' ' | tr ',' '\n' | sort | paste -sd, -)
      to=$(echo "$to" | awk '{ print $1 }')
      echo "$name|$from|$to"
    done
}

# the phase table of docs/cli.md is the code's: each command allowed in the
# phases the code allows it, moving to the phase the code moves it to
test_the_phase_table_is_the_codes() {
  local code doc r name
  code=$(phase_rules); doc=$(documented_rules)
  [ "$(echo "$doc" | grep -c .)" -ge 9 ] || { fail "docs/cli.md has no table of phases: $doc"; return; }
  while IFS='|' read -r name _ _; do
    r=$(echo "$code" | grep -F "$name|" | head -1)
    [ -n "$r" ] || { fail "docs/cli.md names $name, which src/lib/state/phase.c has no rule for"; continue; }
    case $r in *"|-1") r=${r%|-1}; r="$r|$(echo "$doc" | grep -F "$name|" | cut -d'|' -f3)";; esac
    [ "$(echo "$doc" | grep -F "$name|")" = "$r" ] ||
      fail "docs/cli.md says $(echo "$doc" | grep -F "$name|"), the code $r"
  done <<< "$doc"
  # (bake: the write cutover's own move into the bake, in its row)
  for name in $(echo "$code" | cut -d'|' -f1 | grep -vx bake | tr ' ' '_'); do
    echo "$doc" | grep -qF "${name//_/ }|" || fail "docs/cli.md's table of phases has no $name"
  done
}

# docs/spec.md's spec at a glance is a spec segue takes: `plan` reads it,
# its databases made SQLite files holding its table; and every key the
# parser takes (the keys its errors say it expected) is in docs/spec.md
test_the_spec_reference_has_every_key_and_a_valid_example() {
  local d out k n=0; d=$(scratch)
  blocks_of yaml docs/spec.md first |
    sed "s|^source: .*|source: sqlite:$d/shop.db|; s|^target: .*|target: sqlite:$d/shop.db|" > "$d/m.yaml"
  grep -q "^mappings:" "$d/m.yaml" || { fail "no spec at a glance in docs/spec.md"; return; }
  sqlite3 "$d/shop.db" "CREATE TABLE orders (id INTEGER PRIMARY KEY, total NUMERIC NOT NULL,
    customer_id INTEGER, status TEXT)"
  out=$($SEGUE plan "$d/m.yaml" 2>&1) || fail "plan on docs/spec.md's example: $out"
  for k in $(literals | sed -n 's/.*hint: expected \(one of \)\{0,1\}//p' |
             tr ',' '\n' | sed 's/ and /\n/g; s/ or .*//' | tr -d ' ' | grep -E '^[a-z_]+$' | sort -u); do
    grep -qE "\`$k\`|[ {]$k[:,}]|^ *$k:" docs/spec.md || fail "docs/spec.md does not describe key $k"
    n=$((n + 1))
  done
  [ $n -ge 30 ] || fail "only $n keys read from the parser's messages"
}

# every control table the code makes is in docs/operations.md's list (a
# row of its table, or the line of the source's own)
test_operations_lists_every_control_table() {
  local t n=0 list
  list=$(sed -n '/^## The control tables/,/^## [^T]/p' docs/operations.md | grep -E '^\| |^In the source')
  for t in $(literals | grep -o 'CREATE TABLE IF NOT EXISTS @[a-z_]*' | sed 's/.*@//' | sort -u); do
    grep -q "\`$t\`" <<< "$list" || fail "docs/operations.md does not list control table $t"
    n=$((n + 1))
  done
  [ $n -ge 20 ] || fail "only $n control tables found in src/lib"
}

# the text of every C string literal of the program and the library,
# adjacent literals joined, escapes of quotes and newlines undone
literals() {
  perl -0777 -ne 'while (/((?:"(?:[^"\\\n]|\\.)*"\s*)+)/g) { my ($s, $o) = ($1, "");
      while ($s =~ /"((?:[^"\\\n]|\\.)*)"/g) { $o .= $1 } $o =~ s/\\"/"/g; print "$o\n" }' \
    src/lib/*.c src/lib/*/*.c src/lib/*/*/*.c src/cli/*.c src/http/*.c 2>/dev/null
}

# every message docs/troubleshooting.md quotes is one the code prints: each
# stretch of it between the parts that vary (<like this>), past the
# program's "segue COMMAND: " prefix, is in a string literal of the code
test_troubleshooting_quotes_real_messages() {
  local d msg frag n=0; d=$(scratch)
  literals > "$d/literals.txt"
  [ "$(wc -l < "$d/literals.txt")" -gt 1000 ] || { fail "read only $(wc -l < "$d/literals.txt") literals"; return; }
  while IFS= read -r msg; do
    n=$((n + 1))
    msg=$(echo "$msg" | sed -E 's/^segue( [a-z]+)?: //')
    while IFS= read -r frag; do
      [ ${#frag} -ge 12 ] || continue
      grep -qF -- "$frag" "$d/literals.txt" || fail "docs/troubleshooting.md quotes \"$frag\", which no message of the code has"
    done < <(echo "$msg" | sed 's/<[^>]*>/\n/g' | sed 's/^[: ]*//')
  done < <(blocks_of text docs/troubleshooting.md)
  [ $n -ge 12 ] || fail "only $n messages quoted in docs/troubleshooting.md"
}

run_tests
