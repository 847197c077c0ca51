#!/bin/sh
# nginx's lifecycle with runs in flight: reload, a worker killed, quit,
# stop. Prints TAP; run by `make test` through prove --exec sh.
# Needs TEST_NGINX_BINARY and TEST_NGINX_LOAD_MODULES, like the suites.
set -u

nginx=${TEST_NGINX_BINARY:-/usr/sbin/nginx}
module=${TEST_NGINX_LOAD_MODULES:?set TEST_NGINX_LOAD_MODULES}
port=${TEST_NGINX_LIFECYCLE_PORT:-1986}
root=$(mktemp -d /tmp/cli-gateway-lifecycle.XXXXXX)
trap 'pkill -f "sleep 4[0-9][.]42" 2>/dev/null; "$nginx" -p "$root/" -c "$root/nginx.conf" -s stop 2>/dev/null; rm -rf "$root"' EXIT

mkdir -p "$root/logs"
cat > "$root/nginx.conf" <<CONF
load_module $module;
worker_processes 2;
error_log logs/error.log info;
pid logs/nginx.pid;
$( [ "$(id -u)" -eq 0 ] && echo 'user root;' )
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $root/body;
    cli_gateway_max_running 2;
    server {
        listen 127.0.0.1:$port;
        location = /cli {
            cli_gateway /bin/sh;
            cli_gateway_admin_claim \$http_x_role admin;
            cli_gateway_stop_grace 300ms;
        }
    }
}
CONF

n=0
check() {
    n=$((n + 1))
    if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; fi
}

start() {
    "$nginx" -p "$root/" -c "$root/nginx.conf" || exit 1
    for _ in $(seq 50); do
        curl -s -o /dev/null "http://127.0.0.1:$port/" && return
        sleep 0.1
    done
}

master() { cat "$root/logs/nginx.pid"; }
# running, not a zombie waiting for whoever adopted the daemon to reap it
alive() { state=$(ps -o stat= -p "$1"); [ -n "$state" ] && [ "${state#Z}" = "$state" ]; }
workers() { pgrep -P "$(master)" | wc -l; }

post() {
    curl -sS -N -H 'X-Role: admin' -H 'Content-Type: application/json' \
         -d "{\"args\":[\"-c\",\"$1\"]}" "http://127.0.0.1:$port/cli"
}

echo "1..9"
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

# A worker killed outright: its slot no longer counts towards
# cli_gateway_max_running (2), so two new runs still fit.
post 'echo $PPID; exec sleep 45.42' > "$root/killed.out" &
sleep 0.5
worker=$(sed -n 's/.*"data":"\([0-9]*\)\\n".*/\1/p' "$root/killed.out")
kill -9 "$worker"
wait
sleep 0.5
post 'sleep 0.5; exit 6' > "$root/a.out" &
post 'sleep 0.5; exit 7' > "$root/b.out"
wait
check "worker killed: no count drifts, both runs were served" \
      "grep -q 'code\":6}' '$root/a.out' && grep -q 'code\":7}' '$root/b.out'"
check "worker killed: no alert but the crash" \
      "! grep '\[alert\]' '$root/logs/error.log' | grep -v 'exited on signal 9'"
pkill -f 'sleep 45[.]42'

# nginx -s quit: the run finishes, then nginx exits.
old=$(master)
post 'sleep 0.5; echo finished' > "$root/quit.out" &
sleep 0.2
"$nginx" -p "$root/" -c "$root/nginx.conf" -s quit
wait
check "quit: the run finished" "grep -q 'finished' '$root/quit.out'"
sleep 0.5
check "quit: nginx exited" "! alive $old"

# nginx -s stop: no program outlives nginx.
start
post 'sleep 46.42 & sleep 46.42' > /dev/null 2>&1 &
sleep 0.5
check "stop: the programs ran" "pgrep -f 'sleep 46[.]42' > /dev/null"
"$nginx" -p "$root/" -c "$root/nginx.conf" -s stop
sleep 0.5
check "stop: no program outlives nginx" "! pgrep -f 'sleep 46[.]42' > /dev/null"
wait
check "no zombie and no crash in the log" \
      "! grep -E 'signal 11|unknown process' '$root/logs/error.log'"
