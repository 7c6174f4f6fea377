# Helpers for tests of `segue serve`: start and stop it, ask it over HTTP,
# and the real OpenFeature client (tests/e2e/ofrep, installed from npm).
OFREP_DIR=tests/e2e/ofrep
TOOLS=$(dirname "$SEGUE")/tools

# the OpenFeature SDK and OFREP provider, at the versions package-lock.json pins
ofrep_client_ready() {
  [ -d "$OFREP_DIR/node_modules/@openfeature/ofrep-provider" ] &&
    [ -d "$OFREP_DIR/node_modules/pg" ] && return 0
  command -v npm >/dev/null || { fail "npm is missing (make setup installs it)"; return 1; }
  (cd "$OFREP_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1) ||
    { fail "npm ci in $OFREP_DIR failed"; return 1; }
}
# examples/node's dependencies, as a user installs them (npm ci)
example_node_ready() {
  [ -d examples/node/node_modules/@openfeature/ofrep-provider ] && return 0
  (cd examples/node && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1) ||
    { fail "npm ci in examples/node failed"; return 1; }
}
# evaluates FLAG through the SDK for each key on stdin: "key value reason code"
ofrep_eval() { # flag boolean|string
  node "$OFREP_DIR/evaluate.mjs" "$SERVE_URL" "$1" "$2"
}

# starts `segue serve` in the background (its output in DIR/serve.out and
# .err); sets SERVE_URL and SERVE_PID once it listens
serve_start() { # dir args...
  local dir=$1; shift
  SERVE_DIR=$dir
  $SEGUE serve "$@" > "$dir/serve.out" 2> "$dir/serve.err" &
  SERVE_PID=$!
  wait_for "segue serve listens" 30 grep -qs "listening on" "$dir/serve.out" ||
    { cat "$dir/serve.err"; return 1; }
  SERVE_URL=$(grep -o 'http://[^ ]*' "$dir/serve.out" | head -1)
}
# stops it with SIGTERM; it must exit 0 (under the sanitizers: no report)
serve_stop() {
  [ -n "${SERVE_PID:-}" ] || return 0
  local rc
  kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; rc=$?
  [ $rc = 0 ] || fail "segue serve exited $rc on SIGTERM: $(tail -5 "$SERVE_DIR/serve.err")"
  SERVE_PID=
}

# POST a JSON body to an OFREP path; prints the body, then the status on its
# own last line
ofrep_post() { # path body [curl args...]
  local path=$1 body=$2; shift 2
  curl -s -X POST -H 'Content-Type: application/json' --data-binary "$body" \
    -w '\n%{http_code}\n' "$@" "$SERVE_URL$path"
}
# the read percent the service answers for migration NAME now
served_pct() { # name
  ofrep_post "/ofrep/v1/evaluate/flags/segue.$1.reads" '{"context":{"targetingKey":"x"}}' |
    head -1 | sed -n 's/.*"readPercent":\([0-9.]*\).*/\1/p'
}
serves_pct() { # name pct
  [ "$(served_pct "$1" | sed 's/\.0*$//')" = "$2" ]
}

heartbeat_lag() { # spec: status's heartbeat lag in ms, or "null"
  $SEGUE status "$1" --json | jq -r .heartbeat_lag_ms
}
heartbeat_lag_above() { # spec ms
  local v; v=$(heartbeat_lag "$1"); [ "$v" != null ] && [ "$v" -gt "$2" ]
}
heartbeat_lag_below() { # spec ms
  local v; v=$(heartbeat_lag "$1"); [ "$v" != null ] && [ "$v" -lt "$2" ]
}
