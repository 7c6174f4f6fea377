#!/bin/sh
# The linker version script of libsegue.so: every function the public
# headers declare (a declaration starts at column 0: "int sg_x(...",
# "const char *sg_y(..."), global; everything else local. Usage:
#   scripts/symbols.sh include/segue/*.h > libsegue.map
set -eu
echo "SEGUE_0 {"
echo "  global:"
sed -n 's/^[a-z][^(]*[ *]\(sg_[a-z0-9_]*\)(.*/    \1;/p' "$@" | sort -u
echo "  local: *;"
echo "};"
