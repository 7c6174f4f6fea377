#!/usr/bin/env bash
# The code's shape, checked: the driver boundary, the library's exported
# names, public headers that stand alone.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

# core code reaches the drivers only through the sg_db_* wrappers
# (driver.c, driver_ops.c), where a missing operation becomes SG_ENOTSUP
test_core_calls_drivers_through_wrappers() {
  local hits; hits=$(grep -rn --include='*.c' -e '->drv->' src/lib | grep -v '^src/lib/driver/')
  [ -z "$hits" ] || fail "core code calls the driver vtable directly:
$hits"
}

# the program and its HTTP service are built on the public API alone, as any
# application would be: no header of the library's own
test_program_and_service_use_the_public_api_only() {
  local hits; hits=$(grep -rn '#include "' src/cli src/http |
    grep -E '"(internal\.h|(base|values|spec|state|move|plan|check|switch|driver)/)')
  [ -z "$hits" ] || fail "the program includes library internals:
$hits"
}

# every symbol libsegue defines for the linker starts with sg_, so none
# lands in an application's namespace under another name
test_exported_symbols_start_with_sg() {
  local lib; lib=$(dirname "$SEGUE")/libsegue.a
  [ -f "$lib" ] || { fail "no $lib"; return; }
  # (a sanitizer build adds its own __odr_asan.* markers: the compiler's)
  local names; names=$(nm -g --defined-only "$lib" | awk 'NF == 3 { print $3 }' |
    grep -v '^__odr_asan\.')
  [ -n "$names" ] || fail "nm found no symbols in $lib"
  local bad; bad=$(echo "$names" | grep -v '^sg_')
  [ -z "$bad" ] || fail "exported without the sg_ prefix: $(echo "$bad" | tr '\n' ' ')"
}

# each public header compiles with nothing included before it
test_each_public_header_compiles_alone() {
  local h n=0
  for h in include/segue/*.h; do
    n=$((n + 1))
    printf '#include <segue/%s>\n' "$(basename "$h")" |
      cc -std=c17 -Wall -Wextra -Werror -pedantic -Iinclude -fsyntax-only -x c - 2>&1 ||
      fail "$h does not compile alone"
  done
  [ $n -gt 0 ] || fail "no public headers in include/segue"
}

run_tests
