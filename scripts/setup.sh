#!/usr/bin/env bash
# Installs the Debian packages segue needs to build and test, when missing.
# Needs root (or sudo) to install; otherwise prints the exact command.
set -euo pipefail
# build: compiler, SQLite, libyaml, jansson, xxhash, libpq, libpg_query
# (PostgreSQL's parser, for shadow reads), libmicrohttpd (segue serve),
# libcurl (the demo writer asks OFREP; webhooks);
# packaging: dpkg-buildpackage, debhelper, lintian (debian/);
# tests: cmocka, the sqlite3 shell, a PostgreSQL 15 server with psql and
# pgbench, sysbench (read load), curl, prometheus (promtool and a server
# that scrapes segue serve), chromium (renders the dashboard headless),
# Node.js and npm (the OpenFeature SDK, a real OFREP client, comes from npm
# in the test)
pkgs=(gcc make libc6-dev libsqlite3-dev sqlite3 libyaml-dev libjansson-dev
      libxxhash-dev libpg-query-dev libmicrohttpd-dev libcurl4-openssl-dev
      libcmocka-dev libpq-dev pkgconf man-db dpkg-dev debhelper lintian
      postgresql-15 postgresql-client-15 sysbench curl jq prometheus chromium)
# a Node.js of its own (nodesource's) may be there instead of Debian's
command -v node >/dev/null && command -v npm >/dev/null || pkgs+=(nodejs npm)
# `setup.sh --bench` adds what the benchmarks compare against
[ "${1:-}" = --bench ] && pkgs+=(pgcopydb pgloader time wrk)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "setup: installing ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
  echo "setup: need root to install: apt-get install -y ${missing[*]}" >&2; exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >&2 || true
if ! $sudo apt-get install -y -qq "${missing[@]}" >&2; then
  echo "setup: could not install the packages; run: apt-get install -y ${missing[*]}" >&2
  exit 1
fi
