# Helpers for end-to-end tests: each test is a function; `check` records a
# failure with a message; the runner prints one line per test.
SEGUE=${SEGUE:-build/segue}
CHINOOK=${CHINOOK:-../shared/data/chinook/Chinook_Sqlite.sqlite}
failures=0
fail() { echo "    FAIL: $*"; failures=$((failures + 1)); }
check() { local msg=$1; shift; "$@" || fail "$msg"; }
scratch() { local d; d=$(mktemp -d /tmp/segue-e2e-XXXXXX); echo "$d"; }
fresh_chinook() { sqlite3 "$CHINOOK" ".backup '$1'" && sqlite3 "$1" 'PRAGMA journal_mode=WAL' >/dev/null; }
