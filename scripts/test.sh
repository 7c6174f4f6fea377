#!/usr/bin/env bash
# Runs every test: unit (cmocka) and end-to-end, once plainly and once under
# AddressSanitizer + UndefinedBehaviorSanitizer. Ends with "N passed, N
# failed" counting test cases (each cmocka test, each e2e test function).
set -u
cd "$(dirname "$0")/.." || exit 1
passed=0; failed=0
# the test cases a file ran, from its own summary: "e2e: N passed, M failed"
# (tests/e2e/lib.sh) or cmocka's "N test(s) run" and "[  FAILED  ] M
# test(s)"; prints "passed failed", nothing when the file printed neither
cases() { # log
  local e; e=$(grep -E '^e2e: [0-9]+ passed, [0-9]+ failed$' "$1" | tail -1)
  if [ -n "$e" ]; then
    echo "$e" | sed -E 's/^e2e: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/'
  elif grep -qE '^\[=+\] [0-9]+ test\(s\) run\.' "$1"; then
    local n f
    n=$(grep -E '^\[=+\] [0-9]+ test\(s\) run\.' "$1" | tail -1 | sed -E 's/^\[=+\] ([0-9]+) .*/\1/')
    f=$(grep -E '^\[  FAILED  \] [0-9]+ test\(s\)' "$1" | tail -1 | sed -E 's/^\[  FAILED  \] ([0-9]+) .*/\1/')
    echo "$((n - ${f:-0})) ${f:-0}"
  fi
}
# the output of each failing e2e case (the lines since the verdict before
# it, at most 40), else the log's last 40 lines
failing_cases() { # log
  if grep -q '^FAIL test_' "$1"; then
    awk '/^(ok  |FAIL) test_/ { if ($1 == "FAIL") { s = n > 40 ? n - 40 : 0;
           for (i = s; i < n; i++) print buf[i]; print } n = 0; next }
         { buf[n++] = $0 }' "$1"
  else
    tail -40 "$1"
  fi | grep -v '^Runtime error' | sed 's/^/    /'
}
run() { # name command...
  local name=$1 ok=0 c; shift
  # a hung test fails after 15 minutes instead of stalling the run
  timeout -k 10 900 "$@" > "/tmp/segue-test-$$.log" 2>&1 && ok=1
  c=$(cases "/tmp/segue-test-$$.log")
  [ -n "$c" ] || c="$ok $((1 - ok))"     # no summary: the file is one case
  [ $ok = 0 ] && [ "${c#* }" = 0 ] && c="${c% *} 1" # failed outside its cases
  passed=$((passed + ${c% *})); failed=$((failed + ${c#* }))
  if [ $ok = 1 ]; then
    echo "ok   $name (${c% *} cases)"
  else
    echo "FAIL $name (${c#* } of $((${c% *} + ${c#* })) cases failed)"
    failing_cases "/tmp/segue-test-$$.log"
  fi
}
for mode in plain asan; do
  if [ $mode = asan ]; then b=build-asan; flags="SAN=1"; else b=build; flags=""; fi
  if ! make -s -j2 $flags all > "/tmp/segue-build-$$.log" 2>&1; then
    cat "/tmp/segue-build-$$.log"; echo "build ($mode) failed"; failed=$((failed + 1)); continue
  fi
  export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  for t in $b/tests/test_*; do run "$mode $(basename "$t")" "$t"; done
  for t in tests/e2e/test_*.sh; do
    # the packages are built with Debian's flags, not this mode's: once
    [ $mode = asan ] && [ "$t" = tests/e2e/test_deb.sh ] && continue
    run "$mode e2e $(basename "$t" .sh)" env SEGUE=$b/segue "$t"
  done
done
rm -f "/tmp/segue-test-$$.log" "/tmp/segue-build-$$.log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
