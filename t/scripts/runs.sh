#!/bin/sh
# Runs kept in a zone across a reload, a worker that dies, and two edges:
# the new workers of a reload list, reattach to and cancel the old one's
# runs; a run whose worker is SIGKILLed ends in its record and its log;
# and an edge routes another edge's run ids to it with map and proxy_pass,
# the configuration the README shows. Prints TAP; run by `make test`
# through prove --exec sh.
set -u
. "$(dirname "$0")/common.inc"

port=${TEST_NGINX_RUNS_PORT:-1976}
port_b=${TEST_NGINX_RUNS_PORT_B:-1977}
root_b=$root/edge-b
trap '"$nginx" -p "$root/" -c "$root/nginx.conf" -s stop 2>/dev/null; "$nginx" -p "$root_b/" -c "$root_b/nginx.conf" -s stop 2>/dev/null; sleep 0.3; pkill -f "sleep 4[0-9][.]43" 2>/dev/null; rm -rf "$root"' EXIT

echo "1..20"

# edge_conf DIR PORT NODE OTHER_NODE OTHER_PORT
edge_conf() {
    mkdir -p "$1/logs"
    cat > "$1/nginx.conf" <<CONF
load_module $module;
worker_processes 2;
error_log logs/error.log info;
pid logs/nginx.pid;
$( [ "$(id -u)" -eq 0 ] && echo 'user root;' )
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $1/body;
    proxy_temp_path $1/proxy;

    cli_gateway_runs_zone zone=runs:1m replay=64k keep=10m node=$3;

    # a run id names its edge: the other edge's go there
    map \$uri \$cli_gateway_edge {
        "~^/api/v1/admin/cli/runs/(?<edge>[A-Za-z0-9._-]+)-[0-9a-f]{16}(/events)?\$"  \$edge;
        default  "";
    }

    map \$cli_gateway_edge \$cli_gateway_peer {
        $4       127.0.0.1:$5;
        default  "";
    }

    server {
        listen 127.0.0.1:$2;

        location /api/v1/admin/cli {
            if (\$cli_gateway_peer) {
                proxy_pass http://\$cli_gateway_peer;
            }

            cli_gateway /bin/sh;
            cli_gateway_admin_claim \$http_x_role admin;
            cli_gateway_user \$http_x_user;
            cli_gateway_runs runs detach=1m;
            add_header X-Worker \$pid always;
        }
    }
}
CONF
}

R() { python3 t/lib/runs.py "http://127.0.0.1:$port/api/v1/admin/cli" "$@"; }
RB() { python3 t/lib/runs.py "http://127.0.0.1:$port_b/api/v1/admin/cli" "$@"; }
field() { grep -v '^worker ' | python3 -c 'import json,sys; d=json.loads(sys.stdin.read().split(" ",1)[1]); print(d'"$1"')'; }
run_id() { sed -n 's/^run //p'; }

edge_conf "$root" "$port" edge-a edge-b "$port_b"
edge_conf "$root_b" "$port_b" edge-b edge-a "$port"
start

# A reload: the old worker keeps its runs, the new ones serve them.
id=$(R start '{"args":["-c","for i in 1 2 3 4 5 6 7 8; do echo tick $i; sleep 0.25; done"]}' | run_id)
old=$(pgrep -P "$(master)" | sort)
"$nginx" -p "$root/" -c "$root/nginx.conf" -s reload
for _ in $(seq 50); do
    new=$(pgrep -P "$(master)" | sort)
    [ "$(printf '%s\n' "$old" "$new" | sort | uniq -d | wc -l)" -le 1 ] \
        && [ "$(printf '%s\n' "$new" | wc -l)" -ge 3 ] && break
    sleep 0.1
done
R get /runs/$id > "$root/rec"
check "after a reload a new worker lists the old worker's run" \
      '[ "$(field "[\"state\"]" < "$root/rec")" = detached ] && ! printf "%s\n" "$old" | grep -qx "$(sed -n "s/^worker //p" "$root/rec")"'
R events "$id" > "$root/events"
check "a new worker reattaches to it: all 8 lines, exit_code 0, ids ok" \
      '[ "$(grep -c "^stdout tick" "$root/events")" -eq 8 ] && tail -2 "$root/events" | tr "\n" " " | grep -qx "exit_code 0 ids ok "'

id=$(R start '{"args":["-c","echo up; exec sleep 41.43"]}' | run_id)
"$nginx" -p "$root/" -c "$root/nginx.conf" -s reload
sleep 0.5
R delete "$id" > "$root/del"
check "a new worker cancels the old worker's run: 202" \
      'sed 1d "$root/del" | grep -q "^202 "'
check "the program is gone within 1 s" 'gone_within "sleep 41.43" 10'
R events "$id" > "$root/events"
check "its log ends with Cancelled and exit_code -1" \
      'tail -3 "$root/events" | tr "\n" " " | grep -qx "error Cancelled exit_code -1 ids ok "'

# A worker SIGKILLed: the ledger stops its program, the record ends.
id=$(R start '{"args":["-c","echo $PPID; exec sleep 42.43"]}' | run_id)
sleep 0.3
worker=$(R events "$id" --lines 2 | sed -n 's/^stdout //p' | head -1)
kill -9 "$worker"
check "the dead worker's program is stopped within 2 s" \
      'gone_within "sleep 42.43" 20'
check "its record says exited, -1, with no list or reattach before" \
      '[ "$(R get /runs/$id | field "[\"state\"], d[\"exit_code\"]")" = "exited -1" ]'
check "a cancel of it is a conflict: it has exited" \
      'R delete "$id" | grep -q "^409 "'
R events "$id" > "$root/events"
check "its reattached log ends with the worker's exit" \
      'tail -3 "$root/events" | tr "\n" " " | grep -qx "error nginx worker exited exit_code -1 ids ok "'
check "its record says exited, -1" \
      '[ "$(R get /runs/$id | field "[\"state\"], d[\"exit_code\"]")" = "exited -1" ]'

# Two edges: edge-b routes edge-a's run ids to edge-a.
root_a=$root port_a=$port
root=$root_b port=$port_b
start
root=$root_a port=$port_a

id=$(R start '{"args":["-c","for i in 1 2 3 4; do echo tick $i; sleep 0.2; done; exec sleep 43.43"]}' | run_id)
check "a run id names its edge" 'echo "$id" | grep -qE "^edge-a-[0-9a-f]{16}$"'
check "edge-b shows edge-a's run" \
      '[ "$(RB get /runs/$id | field "[\"node\"], d[\"state\"]")" = "edge-a detached" ]'
RB events "$id" --lines 5 > "$root/events"
check "edge-b reattaches to it: its events through edge-b" \
      '[ "$(grep -c "^stdout tick" "$root/events")" -eq 4 ]'
check "edge-b's own list does not have it" \
      '[ "$(RB get /runs | field "")" = "[]" ]'
RB delete "$id" > "$root/del"
check "edge-b cancels it: 202, and the program on edge-a is gone" \
      'grep -q "^202 " "$root/del" && gone_within "sleep 43.43" 20'
check "no alert, crit or emerg in either error.log but the SIGKILLed worker" \
      'no_line "\[(alert|crit|emerg)\]" "$root/logs/error.log" "exited on signal 9" && no_line "\[(alert|crit|emerg)\]" "$root_b/logs/error.log"'

# A worker SIGKILLed whose pid another user's process takes at once (as
# the ledger sees it, kill(pid, 0) answers EPERM): its run ends all the
# same. Needs root, to choose the next pid and to be that other user.
stop
sed -i 's/^user root;/user nobody nogroup;/' "$root/nginx.conf"
chmod 755 "$root"
start
id=$(R start '{"args":["-c","echo $PPID; exec sleep 45.43"]}' | run_id)
sleep 0.3
worker=$(R events "$id" --lines 2 | sed -n 's/^stdout //p' | head -1)
kill -9 "$worker"
for _ in $(seq 100); do ps -p "$worker" > /dev/null || break; sleep 0.02; done
taker=
if [ "$(id -u)" -eq 0 ] && echo $((worker - 1)) 2>/dev/null > /proc/sys/kernel/ns_last_pid; then
    sh -c 'exec sleep 45.44' < /dev/null > /dev/null 2>&1 &
    taker=$!
fi
if [ "$taker" = "$worker" ]; then
    gone_within "sleep 45.43" 20
    check "a dead worker's pid taken by another user: its run's record says exited, -1" \
          '[ "$(R get /runs/$id | field "[\"state\"], d[\"exit_code\"]")" = "exited -1" ]'
else
    echo "ok $((n += 1)) # SKIP the dead worker's pid could not be taken (not root, or taken by another)"
fi
[ -n "$taker" ] && kill "$taker" 2>/dev/null
sed -i 's/^user nobody nogroup;/user root;/' "$root/nginx.conf"

# nginx -s quit with a detached run: the old worker waits for it, but no
# longer than worker_shutdown_timeout; then the run stops like the rest.
stop
sed -i 's/^events /worker_shutdown_timeout 1s;\n&/' "$root/nginx.conf"
: > "$root/logs/error.log"
start
id=$(R start '{"args":["-c","echo up; exec sleep 44.43"],"timeout_secs":60}' | run_id)
old=$(master)
"$nginx" -p "$root/" -c "$root/nginx.conf" -s quit
check "quit with a detached run: nginx is gone within 3 s (worker_shutdown_timeout 1s)" \
      'for _ in $(seq 30); do gone "$old" && break; sleep 0.1; done; gone "$old"'
check "its program is gone" 'gone_within "sleep 44.43" 10'
check "the log says the timeout stopped it" \
      'grep -q "worker_shutdown_timeout is over, stopping pid" "$root/logs/error.log"'
