# Pages for the rollout tests: a webhook receiver and a command hook that
# record what they were sent.
# a webhook receiver on a free port (tests/e2e/rollout/receiver.js);
# sets RECEIVER and HOOK_URL
receiver() { # dir [hang]
  node tests/e2e/rollout/receiver.js "$1/port" "$1/bodies" ${2:-} &
  RECEIVER=$!
  wait_for "the receiver listens" 30 test -s "$1/port" || return 1
  HOOK_URL="http://127.0.0.1:$(cat "$1/port")/api/v2/alerts"
}
# a command hook: writes its arguments and segue's facts to $1/paged
pager() { # dir
  printf '#!/bin/sh\necho "args=$*" > "%s/paged.tmp"\nenv | grep ^SEGUE_ >> "%s/paged.tmp"\nmv "%s/paged.tmp" "%s/paged"\n' \
    "$1" "$1" "$1" "$1" > "$1/pager.sh"
  chmod +x "$1/pager.sh"
}
hooks_yaml() { # dir url
  printf 'on_rollback:\n  command: ["%s/pager.sh", "--migration", "{name}"]\n  webhook: "%s"\n' "$1" "$2"
}

# both hooks got the page of `action` for migration `name` at `pct` %,
# whose reason starts with `why`
pages_arrived() { # dir name action pct why
  wait_for "the command hook ran" 30 test -s "$1/paged" || true
  grep -q "^args=--migration $2$" "$1/paged" 2>/dev/null || fail "command hook: $(cat "$1/paged" 2>&1)"
  grep -q "^SEGUE_ACTION=$3$" "$1/paged" 2>/dev/null && grep -q "^SEGUE_PCT=$4$" "$1/paged" &&
    grep -q "^SEGUE_REASON=$5" "$1/paged" || fail "the hook's environment: $(cat "$1/paged" 2>&1)"
  wait_for "the webhook got the page" 30 test -s "$1/bodies" || true
  [ "$(head -1 "$1/bodies" | jq -r '.[0].labels | "\(.alertname) \(.migration) \(.action)"')" = "SegueRollout $2 $3" ] ||
    fail "webhook body: $(head -c 400 "$1/bodies")"
}
