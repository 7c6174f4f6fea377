# One number from segue's flat --json output, for tests and benchmarks:
#   segue status m.yaml --json | jfield pending_changes
jfield() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"; }
