#!/bin/sh
# cli_gateway_cgroup: each run in a cgroup v2 of its own, so a program
# that leaves its process group (setsid, a double fork) is still stopped
# by the timeout, a disconnect, the end of the run, a dead worker's sweep
# and nginx -s stop; and configurations that cannot work fail nginx -t.
# Prints TAP; run by `make test` through prove --exec sh.
set -u
. "$(dirname "$0")/common.inc"

cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
if [ -z "$cg2" ]; then
    echo "1..0 # SKIP no cgroup v2 file system is mounted on this machine"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "1..0 # SKIP needs root to make a cgroup for the test under $cg2"
    exit 0
fi

port=${TEST_NGINX_CGROUP_PORT:-1994}
parent=$cg2/cli-gateway-test.$$
mkdir "$parent" || exit 1
trap 'pkill -f "sleep 49[.]42" 2>/dev/null; "$nginx" -p "$root/" -c "$root/nginx.conf" -s stop 2>/dev/null; sleep 0.3; for d in "$parent"/run-*; do [ -d "$d" ] && { echo 1 > "$d/cgroup.kill"; sleep 0.1; rmdir "$d"; }; done; rmdir "$parent"; rm -rf "$root"' EXIT

echo "1..16"
echo "# cgroup v2 at $cg2, runs under $parent"

runs() { find "$parent" -mindepth 1 -maxdepth 1 -type d -name 'run-*' | wc -l; }
nginx_t() { "$nginx" -t -p "$root/" -c "$root/nginx.conf" > "$root/t.out" 2>&1; }

# nginx -t: what cannot work fails, naming the cause
conf_http= write_conf "$port" "cli_gateway_cgroup /tmp;"
check "nginx -t: a path outside cgroup v2 fails" \
      "! nginx_t && grep -q 'cli_gateway_cgroup.*\"/tmp\" is not in a cgroup v2 file system' '$root/t.out'"

conf_http= write_conf "$port" "cli_gateway_cgroup relative/path;"
check "nginx -t: a relative path fails" \
      "! nginx_t && grep -q 'cli_gateway_cgroup\" needs an absolute path' '$root/t.out'"

conf_http= write_conf "$port" "cli_gateway_cgroup $parent pids=0;"
check "nginx -t: a bad limit fails" \
      "! nginx_t && grep -q 'invalid parameter \"pids=0\"' '$root/t.out'"

conf_user='user nobody nogroup;' conf_http= write_conf "$port" "cli_gateway_cgroup $parent;"
check "nginx -t: a parent the workers' user cannot write fails" \
      "! nginx_t && grep -q 'uid 65534) cannot create cgroups in \"$parent\"' '$root/t.out'"

for c in memory pids cpu; do
    case $c in memory) limit=memory=64m ;; pids) limit=pids=20 ;; cpu) limit=cpu=50% ;; esac
    conf_http= write_conf "$port" "cli_gateway_cgroup $parent $limit;"
    if grep -qw "$c" "$parent/cgroup.controllers"; then
        echo "+$c" > "$parent/cgroup.subtree_control"
        check "nginx -t: $limit with the $c controller enabled passes" "nginx_t"
    else
        echo "# the $c controller is not available in $parent here"
        check "nginx -t: $limit without the $c controller fails, naming it" \
              "! nginx_t && grep -q 'the \"$c\" controller is not available in \"$parent\"' '$root/t.out'"
    fi
done

conf_http= write_conf "$port" "cli_gateway_cgroup $parent; cli_gateway_stop_grace 300ms;"
start

# a run lives in its own cgroup, removed after the run
post 'cat /proc/self/cgroup; exit 4' > "$root/own.out"
check "the program runs in a cgroup of its own under the parent" \
      "grep -q '0::${parent#$cg2}/run-[0-9]*-[0-9]*' '$root/own.out' && grep -q 'code\":4}' '$root/own.out'"
check "the run's cgroup is removed after the run" '[ "$(runs)" -eq 0 ]'

# the timeout reaches a program that left its process group
curl -sS -N -H 'X-Role: admin' -H 'Content-Type: application/json' \
     -d '{"args":["-c","setsid sleep 49.421 & sleep 0.2; echo escaped; sleep 100"],"timeout_secs":1}' \
     "http://127.0.0.1:$port/cli" > "$root/timeout.out"
check "timeout: the stream ends with the timeout" \
      "grep -q 'escaped' '$root/timeout.out' && grep -q 'Timeout after 1s' '$root/timeout.out'"
check "timeout: the setsid escapee is stopped too" 'gone_within "sleep 49.421" 10'

# a disconnect reaches it too
curl -sS -N -m 1 -H 'X-Role: admin' -H 'Content-Type: application/json' \
     -d '{"args":["-c","setsid sleep 49.422 & sleep 100"]}' \
     "http://127.0.0.1:$port/cli" > /dev/null 2>&1
check "disconnect: the setsid escapee is stopped" 'gone_within "sleep 49.422" 20'

# the end of a run: a double-forked daemon that let go of the pipes
post '(setsid sleep 49.423 > /dev/null 2>&1 &); echo left it; exit 0' > "$root/daemon.out"
check "normal end: the run reports its exit, and the daemon it left is stopped" \
      "grep -q 'code\":0}' '$root/daemon.out' && gone_within 'sleep 49.423' 10 && [ \"\$(runs)\" -eq 0 ]"

# a worker SIGKILLed: its peers' sweep kills the cgroup it left
post 'echo $PPID; setsid sleep 49.424 & sleep 100' > "$root/killed.out" 2>/dev/null &
worker=$(first_number "$root/killed.out")
kill -9 "$worker"
check "worker SIGKILLed: the escapee is stopped by the ledger's sweep" \
      'gone_within "sleep 49.424" 30 && grep -q "killing the cgroup" "$root/logs/error.log"'
sleep 1.5
check "worker SIGKILLed: its run's cgroup is removed" '[ "$(runs)" -eq 0 ]'
wait

# nginx -s stop: nothing outlives nginx
post 'setsid sleep 49.425 & sleep 100' > /dev/null 2>&1 &
sleep 0.5
"$nginx" -p "$root/" -c "$root/nginx.conf" -s stop
check "stop: the escapee does not outlive nginx, no cgroup is left" \
      'gone_within "sleep 49.425" 20 && [ "$(runs)" -eq 0 ]'
wait
