# Helpers for the tests of an installed segue (test_install, test_deb): a
# program built from examples/route_read.c against the installed shared
# library routes a real migration as `segue route --row` does.

# builds examples/route_read.c with the given pkg-config flags into DIR and
# checks it is linked to libsegue.so.0 in LIBDIR (LD_LIBRARY_PATH when given)
example_built() { # dir libdir ld-path cflags...
  local d=$1 lib=$2 ld=$3; shift 3
  cc -std=c17 -Wall -Wextra -Werror examples/route_read.c -o "$d/route_read" "$@" ||
    { fail "the example does not build"; return 1; }
  LD_LIBRARY_PATH=$ld ldd "$d/route_read" | grep -q "libsegue.so.0 => $lib/libsegue.so.0" ||
    { fail "not linked to $lib: $(LD_LIBRARY_PATH=$ld ldd "$d/route_read" | grep segue)"; return 1; }
}

# on a migration of Chinook at 100 % of reads, DIR/route_read answers as
# `segue route --row` does, for a row with a change pending and one without
example_routes_rows() { # dir ld-path
  local d=$1 ld=$2 out
  fresh_chinook "$d/s.db"
  printf 'version: 1\nname: ex\nsource: sqlite:%s\ntarget: sqlite:%s\nmappings:\n  - from: Customer\n    to: customer_v2\n    create: true\ncutover:\n  read_your_writes: true\n' \
    "$d/s.db" "$d/t.db" > "$d/m.yaml"
  started_caught_up "$d/m.yaml"
  check "verify" $SEGUE verify "$d/m.yaml" > /dev/null
  check "reads 100" $SEGUE cutover "$d/m.yaml" --reads 100 --force --reason test > /dev/null
  sqlite3 "$d/s.db" "UPDATE Customer SET FirstName = 'Zed' WHERE CustomerId = 7"
  out=$(LD_LIBRARY_PATH=$ld "$d/route_read" "$d/m.yaml" Customer 7 2>&1)
  [ "$out" = "Customer 7: read from source, write to source" ] || fail "row 7 (pending): $out"
  out=$(LD_LIBRARY_PATH=$ld "$d/route_read" "$d/m.yaml" Customer 8 2>&1)
  [ "$out" = "Customer 8: read from target, write to source" ] || fail "row 8: $out"
  [ "$($SEGUE route "$d/m.yaml" 8 --row Customer=8 --json | jq -r .read)" = target ] ||
    fail "segue route disagrees on row 8"
  out=$(LD_LIBRARY_PATH=$ld "$d/route_read" "$d/m.yaml" Nope 8 2>&1) &&
    fail "a table of no mapping was routed: $out"
  echo "$out" | grep -q 'no mapping reads source table "Nope"' || fail "its message: $out"
}

# the demo of an installed segue, run from / without SEGUE_CHINOOK: it finds
# its data beside the program and passes
installed_demo_passes() { # segue dir
  mkdir -p "$2/demo"
  (cd / && env -u SEGUE_CHINOOK "$1" demo --dir "$2/demo" --listen 127.0.0.1:0 \
     > "$2/demo.out" 2>&1) || fail "the installed demo from /: $(tail -5 "$2/demo.out")"
}
