#!/bin/sh
# Copyright (C) 2026 Seed 79e7e746 maintainers

# A stop reaches the run's own process group and never another one. The
# program exits while a descendant of its own session holds its pipes;
# after cli_gateway_drain_timeout the module kills the program's group.
# Meanwhile the test asks the kernel for the program's pid as the next pid
# (ns_last_pid) and makes that process a group leader: had the module let
# the program's pid go when it exited, the drain's kill would hit it.
# Prints TAP; run by `make test` through prove --exec sh.
set -u
. "$(dirname "$0")/common.inc"

last_pid=/proc/sys/kernel/ns_last_pid
if ! [ -w "$last_pid" ]; then
    echo "1..0 # SKIP needs $last_pid writable (root) to choose the next pid"
    exit 0
fi

write_conf "${TEST_NGINX_PID_REUSE_PORT:-1975}" "cli_gateway_drain_timeout 1s;"

echo "1..5"
start

# the program prints its pid, leaves a process in a session of its own
# holding the pipes, and exits 0 at once
post 'echo $$; setsid sleep 47.42 & exit 0' > "$root/run.out" &
client=$!
program=$(first_number "$root/run.out")
echo "# program pid $program"

# the program has exited (a zombie of the worker, or gone)
for _ in $(seq 50); do
    gone "$program" && break
    sleep 0.1
done

# the next pid the kernel gives is the program's, if it is free
stranger=
for _ in $(seq 20); do
    echo $((program - 1)) > "$last_pid"
    setsid sleep 48.42 &
    stranger=$!
    [ "$stranger" -eq "$program" ] && break
    # not the pid asked for: a pid taken meanwhile, or the program's
    # still held; either way this one is no help
    case $(ps -o pid= -p "$program" | tr -d ' ') in
    "$program") break ;;
    esac
    kill "$stranger"
    stranger=
done
echo "# stranger pid ${stranger:-none}"

check "the stranger started, a group leader" \
      "[ -n '$stranger' ] && [ \"\$(ps -o pgid= -p '$stranger' | tr -d ' ')\" = '$stranger' ]"
check "the program's pid is not given to another process while the run lasts" \
      "[ -n '$stranger' ] && [ '$stranger' -ne '$program' ]"

wait "$client"
check "the run ended after the drain with the program's code" \
      "grep -q 'still open, stopping its process group' '$root/logs/error.log' && grep -q 'exit_code\",\"code\":0}' '$root/run.out'"
check "the drain's kill did not reach the stranger's group" \
      "[ -n '$stranger' ] && kill -0 '$stranger' 2>/dev/null"

# the run is over: the worker keeps no zombie of it
sleep 0.3
zombies=$(ps -eo stat=,ppid= | awk -v w="$(pgrep -d, -P "$(master)")" '
    BEGIN { n = split(w, a, ","); for (i = 1; i <= n; i++) worker[a[i]] = 1 }
    $1 ~ /^Z/ && ($2 in worker) { z++ }
    END { print z + 0 }')
check "no zombie is left in the workers" "[ '$zombies' -eq 0 ]"

[ -n "$stranger" ] && kill "$stranger" 2>/dev/null
pkill -f 'sleep 47[.]42'
