# PostgreSQL helpers shared by the e2e test files: one private server per
# file (started on first use, stopped on exit), a fresh database per test.
# Source after tests/e2e/lib.sh and tests/lib/pg.sh.
shared_pg() { [ -n "${PG_PID:-}" ] || pg_start >/dev/null; }
trap pg_stop EXIT

# a fresh database on the shared server for one test, empty or a copy of a
# template database: sets DB_URI
fresh_db() { # name [template]
  shared_pg || return 1
  psql -q "$PG_URI" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1${2:+ TEMPLATE $2}" >/dev/null 2>&1 ||
    return 1
  DB_URI="postgresql://postgres@127.0.0.1:$PG_PORT/$1"
}

# loads SQL files from a shared dataset into the current database
load_dataset() { # dir files...
  local dir=$1 f; shift
  for f in "$@"; do
    psql -Xq -v ON_ERROR_STOP=1 "$DB_URI" -f "$dir/$f" >/dev/null 2>&1 || return 1
  done
}


# start, then the given statements run while the backfill does, then drain
# and verify
migrate_while_writing() { # spec sql...
  local spec=$1 args=() q; shift
  for q in "$@"; do args+=(-c "$q"); done
  check "start" $SEGUE start "$spec" >/dev/null
  psql -Xq -v ON_ERROR_STOP=1 "$DB_URI" "${args[@]}" &
  local w=$!
  check "backfill" $SEGUE backfill "$spec" >/dev/null
  wait $w || fail "the writes"
  check "run" $SEGUE run "$spec" --until caught-up >/dev/null
  check "verify" $SEGUE verify "$spec" >/dev/null
}

# writes made the way segue writes (its marker holds the database's secret,
# which the test's superuser may read), so guards let them by
pg_as_segue() { # uri sql
  psql -Xq -v ON_ERROR_STOP=1 "$1" -c "BEGIN; SELECT set_config('segue.applying', secret, true) FROM segue.secret; $2; COMMIT" >/dev/null
}
