# A private PostgreSQL server for tests and benchmarks: initdb in a temp
# directory, listening on 127.0.0.1 at a free port (and a socket in that
# directory), stopped by PID. As root, the server runs as the unprivileged
# `postgres` user that Debian's package creates (PostgreSQL refuses root).
#
#   . tests/lib/pg.sh
#   pg_start [postgres -c options...]   # sets PG_DIR PG_PORT PG_PID PG_URI PG_BIN
#   psql "$PG_URI" -c 'select 1'
#   pg_halt; pg_resume                  # stops it, keeping its data; starts it again
#   pg_stop                             # stops the server, removes PG_DIR
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}

pg_as() { # run a command as the server's owner
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A port nothing listens on, below the kernel's ephemeral range: a port in
# that range can be the local end of some client's connection, which a probe
# does not see and which makes the server's bind fail.
pg_free_port() {
  local p lo=32768
  read -r lo _ < /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || lo=32768
  [ "$lo" -gt 12000 ] || lo=32768
  for _ in $(seq 50); do
    p=$((10000 + RANDOM % (lo - 10000)))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
  done
  return 1
}

pg_start() {
  [ -x "$PG_BIN/initdb" ] || { echo "pg: no PostgreSQL server binaries (run make setup)" >&2; return 1; }
  PG_DIR=$(mktemp -d /tmp/segue-pg-XXXXXX) || return 1
  [ "$(id -u)" = 0 ] && chown postgres: "$PG_DIR"
  chmod 700 "$PG_DIR"
  pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --no-locale \
    > "$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; return 1; }
  local try
  for try in 1 2 3; do   # another process can take the port between probe and bind
    PG_PORT=$(pg_free_port) || { echo "pg: no free port" >&2; return 1; }
    PG_OPTS="-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=100 $*"
    PG_QUIET=$([ $try -lt 3 ] && echo 1) pg_resume && break
    [ $try -lt 3 ] || return 1
  done
  PG_URI="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
  export PG_DIR PG_PORT PG_PID PG_URI PG_BIN PG_OPTS
}

# the server's log: pg_ctl's file, and the collector's files if it runs one
pg_log() {
  cat "$PG_DIR/server.log" 2>/dev/null
  cat "$PG_DIR"/data/log/* 2>/dev/null | tail -40
}

# starts the server of PG_DIR (again) with the options pg_start was given
pg_resume() {
  pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -o "$PG_OPTS" -l "$PG_DIR/server.log" -w -t 60 start \
    > "$PG_DIR/pg_ctl.out" 2>&1 || { [ -n "${PG_QUIET:-}" ] || { cat "$PG_DIR/pg_ctl.out"; pg_log; } >&2; return 1; }
  PG_PID=$(head -1 "$PG_DIR/data/postmaster.pid")
}

# stops the server (fast shutdown) and waits until it is gone; the data stays
pg_halt() {
  kill -INT "$PG_PID" 2>/dev/null
  for _ in $(seq 600); do kill -0 "$PG_PID" 2>/dev/null || return 0; sleep 0.1; done
  return 1
}

pg_stop() {
  [ -n "${PG_PID:-}" ] || return 0
  pg_halt || kill -KILL "$PG_PID"
  rm -rf "$PG_DIR"
  PG_PID=
}
