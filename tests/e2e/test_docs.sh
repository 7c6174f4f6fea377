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
docs/tutorial.md"

# the README's quick start: a Chinook migration from start to cleanup
test_the_readme_commands_run() {
  run_doc README.md || return
  local segue; segue=$(realpath "$SEGUE")
  [ "$(cd "$W" && $segue status migration.yaml --json | jq -r .phase)" = cleaned ] ||
    fail "not cleaned up: $(cd "$W" && $segue status migration.yaml 2>&1)"
  local n; n=$(sqlite3 "$W/chinook-v2.db" "SELECT count(*) FROM customer" 2>&1)
  [ "$n" = 59 ] || fail "customer rows: $n"
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

run_tests
