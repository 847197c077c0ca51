#!/bin/sh
# Copyright (C) 2026 Seed 79e7e746 maintainers

# nginx's lifecycle with runs in flight: reload, a worker killed, quit,
# stop. Prints TAP; run by `make test` through prove --exec sh.
set -u
. "$(dirname "$0")/common.inc"

write_conf "${TEST_NGINX_LIFECYCLE_PORT:-1986}" "cli_gateway_stop_grace 300ms;"

echo "1..10"
start

# A reload: the old worker streams its run to the end, then exits.
post 'echo before; sleep 1; echo after; exit 3' > "$root/reload.out" &
sleep 0.3
"$nginx" -p "$root/" -c "$root/nginx.conf" -s reload
wait
check "reload: the run streamed to its end" \
      "grep -q 'data\":\"after' '$root/reload.out' && grep -q 'code\":3}' '$root/reload.out'"
sleep 0.5
check "reload: old workers exited after their runs" '[ "$(workers)" -eq 2 ]'

# A worker killed outright: the worker that replaces it kills the program
# it left, and its slot no longer counts towards cli_gateway_max_running (2),
# so two new runs still fit.
post 'echo $PPID; exec sleep 45.42' > "$root/killed.out" &
sleep 0.5
worker=$(sed -n 's/.*"data":"\([0-9]*\)\\n".*/\1/p' "$root/killed.out")
kill -9 "$worker"
wait
sleep 0.5
check "worker killed: its replacement killed the program it left" \
      "none_running 'sleep 45[.]42' && grep -q 'is gone, killing the process group' '$root/logs/error.log'"
post 'sleep 0.5; exit 6' > "$root/a.out" &
post 'sleep 0.5; exit 7' > "$root/b.out"
wait
check "worker killed: no count drifts, both runs were served" \
      "grep -q 'code\":6}' '$root/a.out' && grep -q 'code\":7}' '$root/b.out'"
check "worker killed: no alert but the crash" \
      "no_line '\[alert\]' '$root/logs/error.log' 'exited on signal 9'"

# nginx -s quit: the run finishes, then nginx exits.
old=$(master)
post 'sleep 0.5; echo finished' > "$root/quit.out" &
sleep 0.2
"$nginx" -p "$root/" -c "$root/nginx.conf" -s quit
wait
check "quit: the run finished" "grep -q 'finished' '$root/quit.out'"
sleep 0.5
check "quit: nginx exited" "gone $old"

# nginx -s stop: no program outlives nginx.
start
post 'sleep 46.42 & sleep 46.42' > /dev/null 2>&1 &
sleep 0.5
check "stop: the programs ran" "pgrep -f 'sleep 46[.]42' > /dev/null"
"$nginx" -p "$root/" -c "$root/nginx.conf" -s stop
sleep 0.5
check "stop: no program outlives nginx" "none_running 'sleep 46[.]42'"
wait
check "no zombie and no crash in the log" \
      "no_line 'signal 11|unknown process' '$root/logs/error.log'"
