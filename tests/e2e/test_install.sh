#!/usr/bin/env bash
# `make install` into a staging prefix, as a user (or a package) does: the
# program, the shared library (its soname, and exactly the public API
# exported), the static one, the headers, pkg-config's file and the demo's
# data; a program built with `pkg-config --cflags --libs segue` against the
# shared library routes a real migration as `segue route` does; the
# installed `segue demo` runs from /; `make uninstall` removes every file.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
. tests/e2e/install_lib.sh
BUILD_DIR=$(dirname "$SEGUE")
# a build with sanitizers makes a library that needs them in the program too
SAN_CFLAGS= SAN_MAKE=
case $BUILD_DIR in *asan*) SAN_CFLAGS="-fsanitize=address,undefined" SAN_MAKE="SAN=1";; esac

staged() { # stage
  make -s --no-print-directory install $SAN_MAKE BUILD="$BUILD_DIR" PREFIX="$1" \
    CHINOOK="$(shared_data chinook)" > "$1.log" 2>&1
}

# the public functions: what scripts/symbols.sh reads from the headers
declared() { scripts/symbols.sh include/segue/*.h | sed -n 's/^ *\(sg_[a-z0-9_]*\);$/\1/p' | sort; }
exported() { nm -D --defined-only "$1" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' | sort; }

test_install_stages_the_program_library_headers_and_data() {
  local d st f; d=$(scratch); st=$d/stage
  staged "$st" || { fail "make install: $(tail -5 "$st.log")"; return; }
  for f in bin/segue lib/libsegue.so lib/libsegue.so.0 lib/libsegue.a lib/pkgconfig/segue.pc \
           include/segue/segue.h include/segue/shadow.h share/segue/Chinook_Sqlite.sqlite \
           share/segue/Chinook_LICENSE.md share/man/man1/segue.1 share/man/man5/segue-spec.5 \
           share/bash-completion/completions/segue; do
    [ -e "$st/$f" ] || fail "not installed: $f"
  done
  [ "$("$st/bin/segue" --version)" = "segue $(sed -n 's/^#define SEGUE_VERSION "\(.*\)"/\1/p' include/segue/segue.h)" ] ||
    fail "the installed segue: $("$st/bin/segue" --version 2>&1)"
  readelf -d "$st/lib/libsegue.so" | grep -q 'SONAME.*\[libsegue\.so\.0\]' ||
    fail "soname: $(readelf -d "$st/lib/libsegue.so" | grep SONAME)"
  diff <(declared) <(exported "$st/lib/libsegue.so") > "$d/sym.diff" ||
    fail "exported symbols are not the public API (< declared only, > exported only): $(head -5 "$d/sym.diff" | tr '\n' ' ')"
  [ "$(declared | wc -l)" -ge 90 ] || fail "only $(declared | wc -l) public functions read from the headers"
  check "make uninstall" make -s --no-print-directory uninstall $SAN_MAKE BUILD="$BUILD_DIR" PREFIX="$st"
  f=$(find "$st" -type f -o -type l)
  [ -z "$f" ] || fail "left after uninstall: $f"
}

# the installed manual page renders without a warning and has every
# command and option `--help` lists; the installed completion offers the
# commands, and each command's options; segue-spec(5) renders and has every
# setting of the parser's table
test_the_manual_and_completion_cover_every_command() {
  local d st c o page got; d=$(scratch); st=$d/stage
  staged "$st" || { fail "make install: $(tail -5 "$st.log")"; return; }
  groff -man -Tutf8 -ww -z "$st/share/man/man1/segue.1" 2> "$d/groff.err" ||
    fail "groff: $(head -3 "$d/groff.err")"
  [ ! -s "$d/groff.err" ] || fail "groff warns: $(head -3 "$d/groff.err")"
  page=$(MANWIDTH=200 man -l "$st/share/man/man1/segue.1" 2>&1) || { fail "man -l: $page"; return; }
  for c in $("$st/bin/segue" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }'); do
    echo "$page" | grep -q "^   segue $c" || fail "the manual has no command $c"
    got=$(bash -c "source '$st/share/bash-completion/completions/segue'; COMP_WORDS=(segue ${c:0:3});
      COMP_CWORD=1; _segue; echo \" \${COMPREPLY[*]} \"")
    [[ $got == *" $c "* ]] || fail "completion of ${c:0:3} offers: $got"
    for o in $("$st/bin/segue" "$c" --help | sed -n 's/^  \(--[a-z0-9-]*\).*/\1/p'); do
      echo "$page" | grep -qw -- "$o" || fail "the manual has no $o for $c"
      got=$(bash -c "source '$st/share/bash-completion/completions/segue'; COMP_WORDS=(segue $c x $o);
        COMP_CWORD=3; _segue; echo \" \${COMPREPLY[*]} \"")
      [[ $got == *" $o "* ]] || fail "completion of segue $c $o offers: $got"
    done
  done
  # segue-spec(5): every setting of the parser's table (read as
  # test_playbook reads it for docs/spec.md)
  groff -man -Tutf8 -ww -z "$st/share/man/man5/segue-spec.5" 2> "$d/groff5.err" &&
    [ ! -s "$d/groff5.err" ] || fail "groff on segue-spec.5: $(head -3 "$d/groff5.err")"
  page=$(MANWIDTH=200 man -l "$st/share/man/man5/segue-spec.5" 2>&1) || { fail "man -l segue-spec.5: $page"; return; }
  local s n=0
  for s in $(sed -n 's/^ *{ "\([a-z_.]*\)", "\([a-z_]*\)", SG_SETTING.*/\1.\2/p' src/lib/spec/settings.c); do
    echo "$page" | grep -qx "       $s" || fail "segue-spec(5) has no setting $s"
    n=$((n + 1))
  done
  [ "$n" -ge 40 ] || fail "only $n settings read from src/lib/spec/settings.c"
}

# examples/route_read.c built by pkg-config's flags against the installed
# shared library, on a migration of Chinook at 100 % of reads: it answers as
# `segue route --row` does, for a row with a change pending and one without
test_a_program_built_with_pkg_config_routes_a_migration() {
  local d st flags; d=$(scratch); st=$d/stage
  staged "$st" || { fail "make install: $(tail -5 "$st.log")"; return; }
  flags=$(PKG_CONFIG_PATH=$st/lib/pkgconfig pkg-config --cflags --libs segue) ||
    { fail "pkg-config does not find segue"; return; }
  [ "$(echo $flags)" = "-I$st/include -L$st/lib -lsegue" ] || fail "pkg-config: $flags"
  # shellcheck disable=SC2086
  example_built "$d" "$st/lib" "$st/lib" $SAN_CFLAGS $flags || return
  example_routes_rows "$d" "$st/lib"
}

# examples/shadow_read.c built the same way: it routes a user's reads and
# the writes as `segue route` does; its shadow read of a row finds a match,
# then, with the row changed on the target alone, a mismatch naming the row;
# a user outside the sample is not shadowed; `segue status` counts what it
# recorded
test_the_shadow_example_routes_and_shadows_a_read() {
  local d st flags out want q='SELECT FirstName, Email FROM Customer WHERE CustomerId = $1'
  d=$(scratch); st=$d/stage
  staged "$st" || { fail "make install: $(tail -5 "$st.log")"; return; }
  flags=$(PKG_CONFIG_PATH=$st/lib/pkgconfig pkg-config --cflags --libs segue)
  # shellcheck disable=SC2086
  cc -std=c17 -Wall -Wextra -Werror examples/shadow_read.c -o "$d/shadow_read" $SAN_CFLAGS $flags ||
    { fail "examples/shadow_read.c does not build"; return; }
  fresh_chinook "$d/s.db"
  example_spec same-database "$d/m.yaml" "sqlite:$d/s.db" "sqlite:$d/t.db"
  started_caught_up "$d/m.yaml"
  check "verify" $SEGUE verify "$d/m.yaml" > /dev/null
  check "reads 50" $SEGUE cutover "$d/m.yaml" --reads 50 --force --reason test > /dev/null
  out=$(LD_LIBRARY_PATH=$st/lib "$d/shadow_read" "$d/m.yaml" user-7 100 "$q" 7 2>&1) || fail "shadow_read: $out"
  want="user user-7: read from $($SEGUE route "$d/m.yaml" user-7 --json | jq -r .read), write to source"
  [ "$(echo "$out" | head -1)" = "$want" ] || fail "routing: $out (want: $want)"
  [[ $(echo "$out" | sed -n 2p) == "shadow: match (source 1 rows in "*", target 1 rows in "* ]] ||
    fail "a clean row: $out"
  as_segue "$d/t.db" "UPDATE customer_v2 SET first_name = 'Changed' WHERE customer_id = 7"
  out=$(LD_LIBRARY_PATH=$st/lib "$d/shadow_read" "$d/m.yaml" user-7 100 "$q" 7 2>&1) || fail "shadow_read: $out"
  [[ $(echo "$out" | sed -n 2p) == "shadow: mismatch "* ]] || fail "a row changed on the target: $out"
  [[ $out == *Changed* ]] || fail "the mismatch does not show the row: $out"
  out=$(LD_LIBRARY_PATH=$st/lib "$d/shadow_read" "$d/m.yaml" user-7 0 "$q" 7 2>&1) || fail "shadow_read: $out"
  [ "$(echo "$out" | sed -n 2p)" = "shadow: not sampled" ] || fail "at 0 %: $out"
  [ "$($SEGUE status "$d/m.yaml" --json | jq -c '[.shadow.compared, .shadow.mismatches]')" = "[2,1]" ] ||
    fail "status counts: $($SEGUE status "$d/m.yaml" --json | jq -c .shadow)"
  out=$(LD_LIBRARY_PATH=$st/lib "$d/shadow_read" "$d/m.yaml" user-7 abc "$q" 7 2>&1) &&
    fail "a bad percentage was taken: $out"
}

# the installed program finds the demo's data beside itself, from any
# directory: the demo runs from / and passes
test_the_installed_demo_runs_from_anywhere() {
  local d st; d=$(scratch); st=$d/stage
  staged "$st" || { fail "make install: $(tail -5 "$st.log")"; return; }
  installed_demo_passes "$st/bin/segue" "$d"
}

run_tests
