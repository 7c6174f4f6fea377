# Helpers shared by the benchmark scripts.
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
# ratio A B: A / B as "1.23x"; called with (baseline time, segue time) it is
# above 1 when segue is the faster
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", (b > 0 ? a / b : 0)}'; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }      # key=value line -> value
. tests/lib/json.sh
die() { echo "bench: $*" >&2; exit 1; }
timed() { # command... -> ms on stdout; the command's output is dropped
  local t0; t0=$(date +%s%N)
  "$@" >/dev/null 2>&1 || die "failed: $*"
  ms_since "$t0"
}
