#!/bin/sh
# The ledger of running programs: every run of every worker is in it, and
# a worker that dies, of whatever generation, has its programs stopped by
# its peers within about a second. Prints TAP; run by `make test` through
# prove --exec sh.
set -u
. "$(dirname "$0")/common.inc"

port=${TEST_NGINX_LEDGER_PORT:-1993}
holder=
trap 'kill $holder 2>/dev/null; pkill -f "sleep 4[0-9][.]42" 2>/dev/null; "$nginx" -p "$root/" -c "$root/nginx.conf" -s stop 2>/dev/null; rm -rf "$root"' EXIT

echo "1..13"

# 300 programs in one worker, more than the 256 the ledger once held per
# worker; the worker is SIGKILLed and its replacement stops every one.
conf_workers=1 conf_connections=2048 conf_http= write_conf "$port" ""
start
python3 t/lib/hold-runs.py "$port" 300 47.42 > "$root/hold.out" &
holder=$!
for _ in $(seq 300); do
    grep -q started "$root/hold.out" && break
    sleep 0.1
done
check "300 runs in one worker started" "grep -qx 'started 300' '$root/hold.out'"
check "300 programs are running" '[ "$(living "sleep 47.42")" -eq 300 ]'
kill -9 "$(pgrep -P "$(master)")"
check "the worker SIGKILLed: all 300 programs stopped within 2 s" \
      'gone_within "sleep 47.42" 20'
check "each of the 300 process groups was in the ledger" \
      '[ "$(grep -c "is gone, killing the process group" "$root/logs/error.log")" -eq 300 ]'
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
stop

# More workers than the ledger once had slots for (64): each joins it.
conf_workers=80 conf_connections=64 conf_http= write_conf "$port" ""
: > "$root/logs/error.log"
start
sleep 1
check "80 workers are up" '[ "$(workers)" -eq 80 ]'
check "no worker was left outside the ledger" \
      "! grep -qE '\\[(emerg|alert)\\]' '$root/logs/error.log'"
stop

# An old worker of a reload, SIGKILLed: no new worker replaces it, and its
# program is stopped by the sweep of the new ones.
conf_workers=1 conf_http= write_conf "$port" ""
: > "$root/logs/error.log"
start
post 'echo $PPID; exec sleep 48.42' > "$root/old.out" 2>/dev/null &
old=$(first_number "$root/old.out")
"$nginx" -p "$root/" -c "$root/nginx.conf" -s reload
sleep 1
check "after the reload the old worker still runs its program" \
      "! gone '$old' && [ \"\$(living 'sleep 48.42')\" -eq 1 ]"
kill -9 "$old"
before=$(date +%s%N)
gone_within "sleep 48.42" 30
after=$(date +%s%N)
echo "# the dead old worker's program was stopped after $(( (after - before) / 1000000 )) ms"
check "the old worker SIGKILLed: its program stopped within 3 s" \
      '[ "$(living "sleep 48.42")" -eq 0 ]'
wait
check "no crash, no unknown process" \
      "! grep -E 'signal (11|6)|unknown process' '$root/logs/error.log'"
stop

# A worker SIGKILLed while its run holds the one place of a capped key: the
# sweep gives the key's count back within about a second and counts the
# run as ended with its worker; a reload keeps the counters.
conf_workers=1 conf_http='cli_gateway_max_running 1 key=$http_x_user;' \
    conf_server='location = /metrics { cli_gateway_status; }' \
    write_conf "$port" ""
: > "$root/logs/error.log"
start
as_alice() {
    curl -sS -N -H 'X-Role: admin' -H 'X-User: alice' \
         -H 'Content-Type: application/json' \
         -d "{\"args\":[\"-c\",\"$1\"]}" "http://127.0.0.1:$port/cli"
}
metric() {
    curl -sS "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}
as_alice 'echo $PPID; exec sleep 41.42' > "$root/alice.out" 2>/dev/null &
worker=$(first_number "$root/alice.out")
check "alice's key is capped at one run" \
      "as_alice 'echo again' | grep -q '\"code\":\"rate_limited\"'"
kill -9 "$worker"
wait
gone_within "sleep 41.42" 30
check "her worker SIGKILLed: her count came back, a run of hers is served" \
      "as_alice 'echo back' | grep -q 'data\":\"back'"
check "the metrics counted her run as ended with its worker" \
      '[ "$(metric "cli_gateway_runs_exited_total{kind=\"worker_exit\"}")" = 1 ]'
started=$(metric cli_gateway_runs_started_total)
"$nginx" -p "$root/" -c "$root/nginx.conf" -s reload
sleep 1
check "a reload keeps the counters" \
      '[ "$started" = 2 ] && [ "$(metric cli_gateway_runs_started_total)" = 2 ]'
stop
