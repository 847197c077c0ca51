#!/bin/sh
# Copyright (C) 2026 Seed 79e7e746 maintainers

# tools/cli-gateway-client end to end: streams, exit codes, errors; and on
# a location with cli_gateway_runs (a server of its own): reattaching
# through a proxy that cuts the connection, --detach, attach, ps, cancel.
# Prints TAP; run by `make test` through prove --exec sh.
set -u
. "$(dirname "$0")/common.inc"

lib="$(dirname "$0")/../lib"
runs_port=${TEST_NGINX_CLIENT_RUNS_PORT:-1978}
proxy_port=$((runs_port + 1))
conf_http="cli_gateway_max_running 8;
    cli_gateway_runs_zone zone=runs:1m replay=4k;
    server {
        listen 127.0.0.1:$runs_port;
        location /cli {
            cli_gateway /bin/sh;
            cli_gateway_admin_claim \$http_authorization \"Bearer test-admin-token\";
            cli_gateway_user test;
            cli_gateway_runs runs detach=1m;
        }
    }"

write_conf "${TEST_NGINX_CLIENT_PORT:-1988}" "" \
           '$http_authorization "Bearer test-admin-token"'
start

client="$(dirname "$0")/../../tools/cli-gateway-client"
export CLI_GATEWAY_URL="http://127.0.0.1:$port/cli"

export CLI_GATEWAY_TOKEN=test-admin-token
run() { python3 "$client" "$@"; }

echo "1..38"

run -- -c 'echo out; echo err >&2; exit 3' > "$root/out" 2> "$root/err"
code=$?
check "stdout events go to stdout" '[ "$(cat "$root/out")" = out ]'
check "stderr events go to stderr" '[ "$(cat "$root/err")" = err ]'
check "the exit status is the program's" '[ "$code" -eq 3 ]'

run -- -c 'printf "no newline"' > "$root/out"
check "data is written as it is" '[ "$(cat "$root/out")" = "no newline" ]'

run --timeout 0 -- -c 'sleep 5' 2> "$root/err"
code=$?
check "a timeout exits 124 and says so" \
      '[ "$code" -eq 124 ] && grep -q "Timeout after 0s" "$root/err"'

run -- -c 'kill -9 $$'
code=$?
check "a program ended by a signal exits 255" '[ "$code" -eq 255 ]'

CLI_GATEWAY_TOKEN=not-admin run -- -c 'true' 2> "$root/err"
code=$?
check "a refusal exits 1 with the gateway's message" \
      '[ "$code" -eq 1 ] && grep -q "HTTP 403: Admin role required" "$root/err"'

CLI_GATEWAY_URL=http://127.0.0.1:1/cli run -- -c true 2>/dev/null
code=$?
check "an unreachable gateway exits 69" '[ "$code" -eq 69 ]'

# a gateway behind basic auth, the admin claim from $remote_user
printf 'ops:%s\n' "$(openssl passwd -apr1 ops-secret)" > "$root/htpasswd"
write_conf "$port" "auth_basic ops; auth_basic_user_file $root/htpasswd;" \
           '$remote_user ops'
"$nginx" -p "$root/" -c "$root/nginx.conf" -s reload 2> /dev/null
for _ in $(seq 50); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST \
         "http://127.0.0.1:$port/cli")" = 401 ] && break
    sleep 0.1
done
unset CLI_GATEWAY_TOKEN

run --user ops:ops-secret -- -c 'echo basic' > "$root/out"
code=$?
check "--user sends basic authentication" \
      '[ "$code" -eq 0 ] && [ "$(cat "$root/out")" = basic ]'

CLI_GATEWAY_URL="http://ops:ops-secret@127.0.0.1:$port/cli" \
    run -- -c 'echo url' > "$root/out"
check "so does the URL's user:password" '[ "$(cat "$root/out")" = url ]'

CLI_GATEWAY_USER=ops:ops-secret run -- -c 'echo env' > "$root/out"
check "so does CLI_GATEWAY_USER" '[ "$(cat "$root/out")" = env ]'

run --user ops:wrong -- -c true 2> "$root/err"
code=$?
check "nginx's HTML page is told by its title, in one line" \
      '[ "$code" -eq 1 ] && [ "$(cat "$root/err")" = "cli-gateway-client: HTTP 401: 401 Authorization Required" ]'

# --- a location with cli_gateway_runs -------------------------------------

runs_url="http://127.0.0.1:$runs_port/cli"
# via=URL rrun ...: through another URL (the proxy's)
rrun() {
    CLI_GATEWAY_URL=${via:-$runs_url} CLI_GATEWAY_TOKEN=test-admin-token \
        python3 "$client" "$@"
}
# proxy BYTES CUTS [SERVE]: cut-proxy.py on $proxy_port in front of
# the server at TARGET (default the runs location's)
proxy() {
    python3 "$lib/cut-proxy.py" "$proxy_port" "${target:-$runs_port}" "$@" \
        > "$root/proxy.out" 2> /dev/null &
    proxy_pid=$!
    for _ in $(seq 50); do
        grep -q ready "$root/proxy.out" 2> /dev/null && return
        sleep 0.1
    done
}
unproxy() { kill "$proxy_pid" 2> /dev/null; wait "$proxy_pid" 2> /dev/null; }
run_id_re='^[A-Za-z0-9._-]*-[0-9a-f]\{16\}$'

rrun -- -c 'echo out; echo err >&2; exit 3' > "$root/out" 2> "$root/err"
code=$?
check "a run with an id streams as any run" \
      '[ "$code" -eq 3 ] && [ "$(cat "$root/out")" = out ] && [ "$(cat "$root/err")" = err ]'

# 40 lines in 2 s; each of the first three connections is cut after 700
# bytes, in the middle of an event or of the stream's framing
proxy 700 3
via="http://127.0.0.1:$proxy_port/cli" \
    rrun -- -c 'for i in $(seq 40); do echo line $i; sleep 0.05; done; exit 3' \
    > "$root/out" 2> "$root/err"
code=$?
unproxy
check "after three cuts the output is whole, each line once" \
      '[ "$(seq 40 | sed "s/^/line /")" = "$(cat "$root/out")" ]'
check "the exit status is still the program's" '[ "$code" -eq 3 ]'
check "one line on stderr for each reattach, and nothing else" \
      '[ "$(grep -c "^cli-gateway-client: connection lost (.*); reattaching to run .* in 0.5 s$" "$root/err")" -eq 3 ] && [ "$(wc -l < "$root/err")" -eq 3 ]'

# cut once, then nothing listens: the client gives up after the time set
proxy 400 1 0
start_s=$(date +%s)
via="http://127.0.0.1:$proxy_port/cli" \
    rrun --reattach-timeout 2 -- -c 'for i in $(seq 30); do echo $i; sleep 0.1; done' \
    > /dev/null 2> "$root/err"
code=$?
took=$(( $(date +%s) - start_s ))
unproxy
check "a gateway gone for longer than --reattach-timeout: exit 69" \
      '[ "$code" -eq 69 ] && [ "$took" -le 5 ] && grep -q "^cli-gateway-client: gave up reattaching to run .* after 2 s" "$root/err"'
check "it waited longer before each try" \
      'grep -q "reattaching to run .* in 0.5 s$" "$root/err" && grep -q "trying again in 1 s$" "$root/err"'

# the location without runs (behind basic auth now): a cut is the end, as
# it always was
target=$port proxy 300 1
python3 "$client" --url "http://127.0.0.1:$proxy_port/cli" --user ops:ops-secret \
    -- -c 'for i in $(seq 30); do echo $i; sleep 0.05; done' \
    > /dev/null 2> "$root/err"
code=$?
unproxy
check "without run ids a cut exits 69 and nothing reattaches" \
      '[ "$code" -eq 69 ] && grep -q "^cli-gateway-client: stream broke" "$root/err" && ! grep -q reattach "$root/err"'

start_s=$(date +%s)
id=$(rrun --detach -- -c 'echo first; sleep 1.5; echo second; exit 4')
code=$?
took=$(( $(date +%s) - start_s ))
check "--detach prints the run id and exits 0 at once" \
      '[ "$code" -eq 0 ] && [ "$took" -le 1 ] && printf "%s\n" "$id" | grep -q "$run_id_re"'

rrun attach "$id" > "$root/out" 2> "$root/err"
code=$?
check "attach shows the run from its start, and exits with its status" \
      '[ "$code" -eq 4 ] && [ "$(cat "$root/out")" = "$(printf "first\nsecond")" ] && [ ! -s "$root/err" ]'

id=$(rrun --detach -- -c 'echo first; sleep 1.5; echo second; exit 6')
sleep 0.7
rrun attach --from-now "$id" > "$root/out"
code=$?
check "attach --from-now shows only what comes next" \
      '[ "$code" -eq 6 ] && [ "$(cat "$root/out")" = second ]'

rrun attach --from-now "$id" > "$root/out"
code=$?
check "attach --from-now to a run that has exited: its status, no output" \
      '[ "$code" -eq 6 ] && [ ! -s "$root/out" ]'

# about 60 KiB of events into a replay of 4 KiB
id=$(rrun --detach -- -c 'seq 2000; exit 5')
sleep 1
rrun attach "$id" > "$root/out" 2> "$root/err"
code=$?
check "a gap in the replay is said on stderr, and the run's status kept" \
      '[ "$code" -eq 5 ] && grep -q "^cli-gateway-client: [0-9]* bytes of the run.s events were lost" "$root/err"'
check "after the gap every line comes, once, to the last" \
      '[ "$(tail -n 1 "$root/out")" = 2000 ] && [ "$(head -n 1 "$root/out")" -gt 1 ] && awk "NR > 1 && \$1 != prev + 1 { bad = 1 } { prev = \$1 } END { exit bad }" "$root/out"'

rrun ps > "$root/out"
code=$?
check "ps: a table of the caller's runs" \
      '[ "$code" -eq 0 ] && head -n 1 "$root/out" | grep -q "^RUN ID  *STATE  *EXIT  *STARTED  *ARGS$"'
check "ps: a run's id, state, exit code, start and args" \
      'grep -q "^$id  *exited  *5  *20[0-9-]*T[0-9:]*Z  *-c .seq 2000; exit 5.$" "$root/out"'

rrun ps --json > "$root/out"
check "ps --json: the gateway's JSON" \
      'python3 -c "import json, sys; runs = json.load(open(sys.argv[1])); sys.exit(sys.argv[2] not in [r[\"run_id\"] for r in runs])" "$root/out" "$id"'

id=$(rrun --detach -- -c 'exec sleep 40.42')
rrun cancel "$id" > "$root/out"
code=$?
check "cancel stops the run and prints its state" \
      '[ "$code" -eq 0 ] && grep -q "^cancelled $id; it was \(running\|detached\)$" "$root/out" && gone_within "sleep 40.42" 50'

rrun attach "$id" > /dev/null 2> "$root/err"
code=$?
check "a cancelled run's log ends with Cancelled, exit 255" \
      '[ "$code" -eq 255 ] && grep -q "^cli-gateway-client: Cancelled$" "$root/err"'

rrun cancel "$id" > "$root/out" 2> "$root/err"
code=$?
check "cancel of a run that has exited: said, and exit 0" \
      '[ "$code" -eq 0 ] && grep -q "run $id has already exited" "$root/err" && [ ! -s "$root/out" ]'

rrun cancel nosuch-0123456789abcdef 2> "$root/err"
code=$?
check "cancel of an unknown run: the 404, exit 1" \
      '[ "$code" -eq 1 ] && grep -q "^cli-gateway-client: HTTP 404: " "$root/err"'

rrun attach nosuch-0123456789abcdef 2> "$root/err"
code=$?
check "attach to an unknown run: the 404, exit 1" \
      '[ "$code" -eq 1 ] && grep -q "^cli-gateway-client: HTTP 404: " "$root/err"'

# Ctrl-C: a background job of sh ignores SIGINT; python3 gets it back
sigint_python() {
    exec python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])' python3 "$@"
}
CLI_GATEWAY_URL=$runs_url CLI_GATEWAY_TOKEN=test-admin-token \
    sigint_python "$client" -- -c 'echo up; exec sleep 41.42' \
    > "$root/out" 2> "$root/err" &
pid=$!
for _ in $(seq 50); do [ -s "$root/out" ] && break; sleep 0.1; done
kill -INT "$pid"
wait "$pid"
code=$?
id=$(sed -n 's/.* run \([^ ]*\) keeps going.*/\1/p' "$root/err")
check "Ctrl-C exits 130 and names the run for attach" \
      '[ "$code" -eq 130 ] && [ -n "$id" ] && grep -q "cli-gateway-client attach $id" "$root/err"'
for _ in $(seq 30); do
    rrun ps | grep -q "^$id  *detached " && break
    sleep 0.1
done
check "the run goes on without its client (detach=)" \
      'rrun ps | grep -q "^$id  *detached "'
rrun cancel "$id" > /dev/null

unset CLI_GATEWAY_URL
python3 "$client" --url "http://127.0.0.1:$port/cli" --user ops:ops-secret \
    --detach -- -c 'sleep 1' 2> "$root/err"
code=$?
check "--detach without runs: exit 1, and why" \
      '[ "$code" -eq 1 ] && grep -q "keeps no runs" "$root/err"'

python3 "$client" --url "http://127.0.0.1:$port/cli" --user ops:ops-secret \
    ps 2> "$root/err"
code=$?
check "ps without runs: the gateway's 404, exit 1" \
      '[ "$code" -eq 1 ] && grep -q "^cli-gateway-client: HTTP 404" "$root/err"'

rrun -- ps 2> "$root/err"
code=$?
check "after --, ps is the program's argument" \
      '[ "$code" -ne 0 ] && grep -q "ps" "$root/err"'
