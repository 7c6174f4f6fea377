#!/usr/bin/env bash
# Runs every test: unit (cmocka) and end-to-end, once plainly and once under
# AddressSanitizer + UndefinedBehaviorSanitizer. Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.." || exit 1
passed=0; failed=0
run() { # name command...
  local name=$1; shift
  # a hung test fails after 15 minutes instead of stalling the run
  if timeout -k 10 900 "$@" > "/tmp/segue-test-$$.log" 2>&1; then
    echo "ok   $name"; passed=$((passed + 1))
  else
    echo "FAIL $name"; sed 's/^/    /' "/tmp/segue-test-$$.log" | grep -v '^    Runtime error' | tail -40
    failed=$((failed + 1))
  fi
}
for mode in plain asan; do
  if [ $mode = asan ]; then b=build-asan; flags="SAN=1"; else b=build; flags=""; fi
  if ! make -s -j2 $flags all > "/tmp/segue-build-$$.log" 2>&1; then
    cat "/tmp/segue-build-$$.log"; echo "build ($mode) failed"; failed=$((failed + 1)); continue
  fi
  export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  for t in $b/tests/test_*; do run "$mode $(basename "$t")" "$t"; done
  for t in tests/e2e/test_*.sh; do run "$mode e2e $(basename "$t" .sh)" env SEGUE=$b/segue "$t"; done
done
rm -f "/tmp/segue-test-$$.log" "/tmp/segue-build-$$.log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
