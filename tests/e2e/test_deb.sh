#!/usr/bin/env bash
# The Debian packages, built from the tree with `dpkg-buildpackage -us -uc
# -b` as a packager does: segue, libsegue0 and libsegue-dev pass lintian
# without an error or a warning; unpacked into a clean directory tree they
# run the demo from /, render their manual pages, complete commands, and
# build a C program with `pkg-config --cflags --libs segue` that routes a
# real migration; as root, `dpkg -i` installs them and `dpkg --purge`
# removes every file. (Runs once, not again under ASan: it tests the
# packaging, built with Debian's own flags.)
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
. tests/e2e/install_lib.sh
VERSION=$(sed -n 's/^#define SEGUE_VERSION "\(.*\)"/\1/p' include/segue/segue.h)
ARCH=$(dpkg-architecture -qDEB_HOST_ARCH)
MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
DEBS=$(scratch)
PACKAGES="segue libsegue0 libsegue-dev"

# builds the packages once, from a copy of what the build reads (so that
# the tree's own build directories play no part), into $DEBS
built=""
debs_built() {
  [ -n "$built" ] && { [ "$built" = ok ]; return; }
  built=failed
  mkdir -p "$DEBS/segue-$VERSION"
  cp -r Makefile install.mk segue.pc.in scripts include src debian README.md docs examples \
    "$DEBS/segue-$VERSION/"
  rm -rf "$DEBS/segue-$VERSION/examples/node/node_modules"
  (cd "$DEBS/segue-$VERSION" && CHINOOK=$(cd "$OLDPWD" && realpath "$(shared_data chinook)") \
     dpkg-buildpackage -us -uc -b > "$DEBS/build.log" 2>&1) ||
    { fail "dpkg-buildpackage: $(grep -E 'error:|Error [0-9]' "$DEBS/build.log" | head -5)"; return 1; }
  built=ok
}
deb() { echo "$DEBS/${1}_${VERSION}_$ARCH.deb"; }
# whether a package holds a path (a file, or a link: "PATH -> TARGET")
holds() { # package path
  dpkg-deb -c "$(deb "$1")" > "$DEBS/$1.contents" && grep -qE " \\$2( -> .*)?$" "$DEBS/$1.contents"
}

test_the_packages_build_and_pass_lintian() {
  local p f
  debs_built || return
  for p in $PACKAGES; do [ -f "$(deb $p)" ] || fail "no package $(basename "$(deb $p)")"; done
  [ "$(dpkg-parsechangelog -l debian/changelog -S Version)" = "$VERSION" ] ||
    fail "debian/changelog is at $(dpkg-parsechangelog -l debian/changelog -S Version), segue.h at $VERSION"
  if ! lintian --fail-on error,warning "$DEBS/segue_${VERSION}_$ARCH.changes" > "$DEBS/lintian.log" 2>&1 ||
     grep -qE '^[EW]:' "$DEBS/lintian.log"; then
    fail "lintian: $(grep -vE '^[IN]:' "$DEBS/lintian.log" | head -5)"
  fi
  for f in ./usr/bin/segue ./usr/share/man/man1/segue.1.gz ./usr/share/man/man5/segue-spec.5.gz \
           ./usr/share/bash-completion/completions/segue ./usr/share/segue/Chinook_Sqlite.sqlite \
           ./usr/share/doc/segue/tutorial.md.gz ./usr/share/doc/segue/examples/shadow_read.c \
           ./usr/share/doc/segue/examples/specs/gated-rollout.yaml; do
    holds segue "$f" || fail "segue has no $f"
  done
  holds libsegue0 "./usr/lib/$MULTIARCH/libsegue.so.$VERSION" ||
    fail "libsegue0 has no libsegue.so.$VERSION"
  for f in ./usr/include/segue/segue.h ./usr/lib/$MULTIARCH/libsegue.a ./usr/lib/$MULTIARCH/libsegue.so \
           ./usr/lib/$MULTIARCH/pkgconfig/segue.pc; do
    holds libsegue-dev "$f" || fail "libsegue-dev has no $f"
  done
  # the shared library's dependencies come from its links (dh_shlibdeps)
  f=$(dpkg-deb -f "$(deb libsegue0)" Depends)
  for p in libsqlite3-0 libpq5 libyaml-0-2 libjansson4; do
    [[ ", $f," == *", $p"[\ ,]* ]] || fail "libsegue0 does not depend on $p: $f"
  done
  # debian/libsegue0.symbols (the ABI dpkg-gensymbols holds each build to)
  # lists exactly the public functions the headers declare
  diff <(scripts/symbols.sh include/segue/*.h | sed -n 's/^ *\(sg_[a-z0-9_]*\);$/\1/p' | sort) \
       <(sed -n 's/^ \(sg_[a-z0-9_]*\)@SEGUE_0 .*/\1/p' debian/libsegue0.symbols | sort) > "$DEBS/symbols.diff" ||
    fail "debian/libsegue0.symbols is not the public API (< declared only, > listed only): $(head -4 "$DEBS/symbols.diff" | tr '\n' ' ')"
  [[ $(dpkg-deb -f "$(deb libsegue-dev)" Depends) == *"libsegue0 (= $VERSION)"* ]] ||
    fail "libsegue-dev: $(dpkg-deb -f "$(deb libsegue-dev)" Depends)"
}

# unpacked into an empty directory tree, without dpkg's database
test_the_packages_unpacked_in_a_clean_tree_work() {
  local d r p flags got
  debs_built || return
  d=$(scratch); r=$d/root
  for p in $PACKAGES; do dpkg-deb -x "$(deb $p)" "$r"; done
  installed_demo_passes "$r/usr/bin/segue" "$d"
  got=$(MANPATH=$r/usr/share/man MANWIDTH=200 man segue 2>&1) || fail "man segue: $got"
  [[ $got == *"segue demo"* ]] || fail "man segue shows: $(echo "$got" | head -3)"
  got=$(MANWIDTH=200 man -l "$r/usr/share/man/man5/segue-spec.5.gz" 2>&1) || fail "man -l segue-spec.5: $got"
  [[ $got == *"cutover.read_your_writes"* ]] || fail "segue-spec(5) shows: $(echo "$got" | head -3)"
  got=$(bash -c "source '$r/usr/share/bash-completion/completions/segue'; COMP_WORDS=(segue cut);
    COMP_CWORD=1; _segue; echo \"\${COMPREPLY[*]}\"")
  [ "$got" = cutover ] || fail "completion of cut: $got"
  # pkg-config of a staged root: the sysroot prefixes its paths
  flags=$(PKG_CONFIG_SYSROOT_DIR=$r PKG_CONFIG_PATH=$r/usr/lib/$MULTIARCH/pkgconfig \
    pkg-config --cflags --libs segue) || { fail "pkg-config does not find segue"; return; }
  [ "$(echo $flags)" = "-lsegue" ] || [ "$(echo $flags)" = "-I$r/usr/include -L$r/usr/lib/$MULTIARCH -lsegue" ] ||
    fail "pkg-config: $flags"
  # (the system paths pkg-config leaves out are the tree's here)
  # shellcheck disable=SC2086
  example_built "$d" "$r/usr/lib/$MULTIARCH" "$r/usr/lib/$MULTIARCH" -I"$r/usr/include" \
    -L"$r/usr/lib/$MULTIARCH" $flags || return
  example_routes_rows "$d" "$r/usr/lib/$MULTIARCH"
}

# `dpkg -i` on this machine, then `dpkg --purge`: needs root, and no segue
# installed already (the test would replace it)
test_dpkg_installs_runs_and_purges_the_packages() {
  local d p flags got f
  debs_built || return
  d=$(scratch)
  dpkg -i $(for p in $PACKAGES; do deb $p; done) > "$d/dpkg.log" 2>&1 ||
    { fail "dpkg -i: $(tail -5 "$d/dpkg.log")"; dpkg --purge $PACKAGES > /dev/null 2>&1; return; }
  [ "$(/usr/bin/segue --version)" = "segue $VERSION" ] || fail "the installed segue: $(/usr/bin/segue --version 2>&1)"
  got=$(MANWIDTH=200 man segue 2>&1) && [[ $got == *"segue demo"* ]] || fail "man segue: $(echo "$got" | head -3)"
  got=$(MANWIDTH=200 man 5 segue-spec 2>&1) && [[ $got == *"worker.lease_ttl"* ]] || fail "man 5 segue-spec: $(echo "$got" | head -3)"
  flags=$(pkg-config --cflags --libs segue) && [ "$(echo $flags)" = "-lsegue" ] || fail "pkg-config: $flags"
  # shellcheck disable=SC2086
  example_built "$d" "/lib/$MULTIARCH" "" $flags && example_routes_rows "$d" ""
  installed_demo_passes /usr/bin/segue "$d"
  dpkg --purge $PACKAGES > "$d/purge.log" 2>&1 || fail "dpkg --purge: $(tail -5 "$d/purge.log")"
  for f in /usr/bin/segue /usr/share/segue /usr/include/segue /usr/lib/$MULTIARCH/libsegue.so.0 \
           /usr/lib/$MULTIARCH/pkgconfig/segue.pc /usr/share/man/man1/segue.1.gz; do
    [ ! -e "$f" ] || fail "left after dpkg --purge: $f"
  done
}
if [ "$(id -u)" != 0 ] || dpkg -s segue > /dev/null 2>&1; then
  unset -f test_dpkg_installs_runs_and_purges_the_packages
  echo "note: test_dpkg_installs_runs_and_purges_the_packages not run: needs root and no segue package installed"
fi

run_tests
