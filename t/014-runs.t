# Copyright (C) 2026 Seed 79e7e746 maintainers

# Runs kept in a zone (cli_gateway_runs): ids and numbered events, the
# list and records, reattach from the start and after Last-Event-ID, from
# another worker, detach and its timeout, gaps, cancel, another user's
# runs, a full zone, and the configuration's errors.
#
# Most blocks run a script in the driver location /cli that talks to the
# gateway under test (/g, ...) with t/lib/runs.py and prints what it saw.

use lib 't/lib';
use Cwd ();
use Test::Nginx::Socket 'no_plan';
use CliGateway;

$ENV{TEST_NGINX_LIB} = Cwd::abs_path('t/lib');

master_on();
workers(2);
no_shuffle();

our $http_config = <<'CONF';
    cli_gateway_runs_zone zone=runs:1m replay=64k keep=10m node=edge-1;
    cli_gateway_runs_zone zone=small:1m replay=4k node=edge-1;
    cli_gateway_runs_zone zone=tiny:32k replay=16k node=edge-1;
    cli_gateway_runs_zone zone=brief:64k replay=4k keep=2s node=edge-1;
    cli_gateway_runs_zone zone=cramped:32k replay=1m node=edge-1;

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1 reuseport;
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_2 sndbuf=4k;

        location /g {
            cli_gateway /bin/sh;
            cli_gateway_admin_claim $http_x_role admin;
            cli_gateway_user $http_x_user;
            cli_gateway_runs runs detach=30s;
            add_header X-Worker $pid always;
        }

        location /gd {
            cli_gateway /bin/sh;
            cli_gateway_admin_claim $http_x_role admin;
            cli_gateway_user $http_x_user;
            cli_gateway_runs runs detach=1s;
        }
    }
CONF

our $config = <<'CONF';
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_env PORT $server_port;
        cli_gateway_env PORT2 $TEST_NGINX_RAND_PORT_1;
        cli_gateway_env PORT3 $TEST_NGINX_RAND_PORT_2;
        cli_gateway_env LIB $TEST_NGINX_LIB;
    }

    location /g {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_user $http_x_user;
        cli_gateway_runs runs detach=30s;
    }

    location /g0 {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_user $http_x_user;
        cli_gateway_runs runs;
    }

    location /gd {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_user $http_x_user;
        cli_gateway_runs runs detach=1s;
    }

    location /gs {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_user $http_x_user;
        cli_gateway_runs small detach=30s;
    }

    location /gt {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_user $http_x_user;
        cli_gateway_runs tiny detach=30s;
    }

    location /gk {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_user $http_x_user;
        cli_gateway_runs brief detach=30s;
    }

    location /gc {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_user $http_x_user;
        cli_gateway_runs cramped detach=30s;
    }

    location = /p {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
    }

    location = /status {
        cli_gateway_status;
    }
CONF

# what every script starts with
our $lib = <<'SH';
R() { loc=$1; shift; python3 "$LIB/runs.py" "http://127.0.0.1:$PORT/$loc" "$@"; }
R2() { loc=$1; shift; python3 "$LIB/runs.py" "http://127.0.0.1:$PORT2/$loc" "$@"; }
# FIELD of the JSON body of a "STATUS BODY" line
field() { grep -v '^worker ' | python3 -c 'import json,sys; d=json.loads(sys.stdin.read().split(" ",1)[1]); print(d'"$1"')'; }
alive() { kill -0 "$1" 2>/dev/null && echo "pid alive" || echo "pid gone"; }
metric() { curl -sS "http://127.0.0.1:$PORT/status" | sed -n "s/^$1 //p"; }
SH

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('http_config', $http_config)
        unless defined $block->http_config;
    $block->set_value('config', $config) unless defined $block->config;
    $block->set_value('no_error_log', "[alert]\n[crit]\n[emerg]")
        unless defined $block->no_error_log || defined $block->must_die;

    if (defined $block->script) {
        $block->set_value('request', CliGateway::sh($lib . $block->script));
        $block->set_value('timeout', 30) unless defined $block->timeout;
    }
});

run_tests();

__DATA__

=== TEST 1: started names the run, every event has an id: its offset in the log; the rest is the bytes of a location without runs
--- script
R g post '{"args":["-c","echo one; echo two; exit 3"]}' --raw /tmp/runs-$$-a
R p post '{"args":["-c","echo one; echo two; exit 3"]}' --raw /tmp/runs-$$-b > /dev/null
grep -c '^id: ' /tmp/runs-$$-b
sed '/^id: /d; s/,"run_id":"edge-1-[0-9a-f]\{16\}"//; s/"pid":[0-9]*/"pid":N/' /tmp/runs-$$-a > /tmp/runs-$$-a2
sed 's/"pid":[0-9]*/"pid":N/' /tmp/runs-$$-b > /tmp/runs-$$-b2
cmp /tmp/runs-$$-a2 /tmp/runs-$$-b2 && echo "same bytes"
head -2 /tmp/runs-$$-a | tail -1 | sed 's/"pid":[0-9]*/"pid":N/; s/edge-1-[0-9a-f]\{16\}/edge-1-HEX/'
rm -f /tmp/runs-$$-*
--- sse
started
stdout started run
stdout stdout one
stdout stdout two
stdout exit_code 3
stdout ids ok
stdout 0
stdout same bytes
stdout data: {\"type\":\"started\",\"pid\":N,\"run_id\":\"edge-1-HEX\"}
exit_code 0



=== TEST 2: the list and a record: the caller's runs only; another user's id is not found
--- script
R g post '{"args":["-c","printf abc; exit 3"]}' --raw /tmp/runs-$$-a > /dev/null
id=$(R g get /runs | field '[-1]["run_id"]')
R g get /runs | field '[-1]["state"], d[-1]["exit_code"], d[-1]["user"], d[-1]["args"], d[-1]["output_bytes"]' | sed 's/^/list /'
R g get /runs/$id | field '["events_bytes"]' > /tmp/runs-$$-n
[ "$(cat /tmp/runs-$$-n)" -eq "$(wc -c < /tmp/runs-$$-a)" ] && echo "events_bytes is the log's size"
R g get /runs/$id | field '["run_id"] == "'$id'", d["node"], d["pid"] > 1, d["ended_at"] >= d["started_at"], d["timeout_secs"]'
R g get /runs/$id | sed 's/^\([0-9]*\) .*/\1/'
RUNS_USER=bob R g get /runs
RUNS_USER=bob R g get /runs/$id | field '["code"], d["message"]' | sed 's/^/bob /'
RUNS_USER=bob R g events $id | field '["code"]' | sed 's/^/bob events /'
RUNS_USER=bob R g delete $id | field '["code"]' | sed 's/^/bob delete /'
R g get /runs/edge-1-0000000000000000 | field '["code"], d["message"]'
rm -f /tmp/runs-$$-*
--- sse
started
stdout list exited 3 alice ['-c', 'printf abc; exit 3'] 3
stdout events_bytes is the log's size
stdout True edge-1 True True 300
stdout 200
stdout 200 []
stdout bob not_found Run not found
stdout bob events not_found
stdout bob delete not_found
stdout not_found Run not found
exit_code 0



=== TEST 3: reattach: from the start the same bytes as the stream; after Last-Event-ID the rest; an id that names no event is refused; after the last, 204
--- script
R g post '{"args":["-c","echo one; echo two; echo three"]}' --raw /tmp/runs-$$-a > /dev/null
id=$(R g get /runs | field '[-1]["run_id"]')
R g events $id --raw /tmp/runs-$$-b | tail -1
cmp /tmp/runs-$$-a /tmp/runs-$$-b && echo "same bytes"
second=$(sed -n 's/^id: //p' /tmp/runs-$$-a | sed -n 2p)
R g events $id --last $second
R g events $id --last $(printf %x $((0x$second - 1))) | field '["code"], d["message"]'
R g events $id --last fffff | field '["code"]'
R g events $id --last x1 | field '["code"], d["message"]'
last=$(sed -n 's/^id: //p' /tmp/runs-$$-a | tail -1)
R g events $id --last $last
rm -f /tmp/runs-$$-*
--- sse
started
stdout ids ok
stdout same bytes
stdout stdout two
stdout stdout three
stdout exit_code 0
stdout ids ok
stdout bad_request Last-Event-ID does not name an event of this run
stdout bad_request
stdout bad_request Last-Event-ID is not an event id
stdout 204 
exit_code 0



=== TEST 4: detach: the client goes, the run goes on; a reattach gets all of it
--- script
before=$(metric cli_gateway_runs_detached)
id=$(R g start '{"args":["-c","for i in 1 2 3; do sleep 0.3; echo tick $i; done"]}' | sed -n 's/^run //p')
sleep 0.2
R g get /runs/$id | field '["state"]'
echo "detached gauge: +$(( $(metric cli_gateway_runs_detached) - before ))"
R g events $id
R g get /runs/$id | field '["state"], d["exit_code"], d["output_bytes"]'
echo "detached gauge after: +$(( $(metric cli_gateway_runs_detached) - before ))"
--- sse
started
stdout detached
stdout detached gauge: +1
stdout started run
stdout stdout tick 1
stdout stdout tick 2
stdout stdout tick 3
stdout exit_code 0
stdout ids ok
stdout exited 0 21
stdout detached gauge after: +0
exit_code 0
--- error_log eval
qr/cli_gateway: request ended before pid \d+, run edge-1-[0-9a-f]{16} goes on detached for up to 30000 ms without a client/



=== TEST 5: without detach=, the run stops with its client, and its log says so
--- script
id=$(R g0 start '{"args":["-c","exec sleep 60"]}' | sed -n 's/^run //p')
sleep 0.5
pid=$(R g0 get /runs/$id | field '["pid"]')
alive $pid
R g0 events $id
R g0 get /runs/$id | field '["state"], d["exit_code"]'
--- sse
started
stdout pid gone
stdout started run
stdout error Client went away
stdout exit_code -1
stdout ids ok
stdout exited -1
exit_code 0



=== TEST 6: detach=1s: a run alone for longer is stopped, and its log says so
--- script
id=$(R gd start '{"args":["-c","exec sleep 60"]}' | sed -n 's/^run //p')
pid=$(R gd get /runs/$id | field '["pid"]')
sleep 2
alive $pid
R gd events $id
--- sse
started
stdout pid gone
stdout started run
stdout error No client for 1s
stdout exit_code -1
stdout ids ok
exit_code 0
--- error_log eval
qr/cli_gateway: run edge-1-[0-9a-f]{16} of pid \d+ had no client for 1000 ms, stopping it/



=== TEST 7: a reattached client keeps a detached run going past detach=
--- script
id=$(R gd start '{"args":["-c","for i in 1 2 3 4 5 6; do sleep 0.4; echo tick $i; done"]}' | sed -n 's/^run //p')
R gd events $id | tail -3
--- sse
started
stdout stdout tick 6
stdout exit_code 0
stdout ids ok
exit_code 0



=== TEST 8: a detached run's output beyond replay= is overwritten; a reattach is told how much it lost, then goes on
--- script
id=$(R gs start '{"args":["-c","sleep 0.3; seq 1 2000; sleep 0.3; echo last"]}' | sed -n 's/^run //p')
sleep 1.2
R gs events $id > /tmp/runs-$$-e
head -1 /tmp/runs-$$-e | sed 's/gap [1-9][0-9]*$/gap N/'
tail -3 /tmp/runs-$$-e
R gs events $id --last 5a > /tmp/runs-$$-e
head -1 /tmp/runs-$$-e | sed 's/gap [1-9][0-9]*$/gap N/'
tail -1 /tmp/runs-$$-e
R gs get /runs/$id | field '["output_bytes"], d["events_bytes"] > 4096'
rm -f /tmp/runs-$$-*
--- sse
started
stdout gap N
stdout stdout last
stdout exit_code 0
stdout ids ok
stdout gap N
stdout ids ok
stdout 8898 True
exit_code 0
--- error_log eval
qr/bytes of its log were lost to a reattached stream/



=== TEST 9: cancel: 202 with the record, its stream ends with Cancelled, the program is gone, a second cancel is a conflict
--- script
cancels=$(metric cli_gateway_runs_cancelled_total)
R g post '{"args":["-c","echo ready; exec sleep 60"]}' > /tmp/runs-$$-p &
sleep 0.5
id=$(R g get /runs | field '[-1]["run_id"]')
pid=$(R g get /runs/$id | field '["pid"]')
R g delete $id | sed 's/^\([0-9]*\) .*"state":"\([a-z]*\)".*/\1 \2/'
wait
cat /tmp/runs-$$-p
alive $pid
R g delete $id | field '["code"], d["message"]'
R g get /runs/$id | field '["state"], d["exit_code"]'
echo "cancelled counter: +$(( $(metric cli_gateway_runs_cancelled_total) - cancels ))"
rm -f /tmp/runs-$$-*
--- sse
started
stdout 202 running
stdout started run
stdout stdout ready
stdout error Cancelled
stdout exit_code -1
stdout ids ok
stdout pid gone
stdout conflict Run has already exited
stdout exited -1
stdout cancelled counter: +1
exit_code 0
--- error_log eval
qr/cli_gateway: run edge-1-[0-9a-f]{16} of pid \d+ cancelled, stopping it/



=== TEST 10: from another worker: a reattach sees live output, and a cancel stops the run
--- script
R2 g post '{"args":["-c","echo ready; while :; do sleep 0.1; echo tick; done"]}' > /tmp/runs-$$-p &
sleep 0.5
id=$(R2 g get /runs | field '[-1]["run_id"]')
w=$(sed -n 's/^worker //p' /tmp/runs-$$-p)
R2 g events $id --lines 5 --not-worker $w > /tmp/runs-$$-e
e=$(sed -n 's/^worker //p' /tmp/runs-$$-e)
[ -n "$e" ] && [ "$e" != "$w" ] && echo "reattached in another worker"
sed 1d /tmp/runs-$$-e
pid=$(R2 g get /runs/$id | field '["pid"]')
R2 g delete $id --not-worker $w > /tmp/runs-$$-d
d=$(sed -n 's/^worker //p' /tmp/runs-$$-d)
[ -n "$d" ] && [ "$d" != "$w" ] && sed 1d /tmp/runs-$$-d | sed 's/^\([0-9]*\) .*/cancelled in another worker: \1/'
wait
tail -3 /tmp/runs-$$-p
alive $pid
rm -f /tmp/runs-$$-*
--- sse
started
stdout reattached in another worker
stdout started run
stdout stdout ready
stdout stdout tick
stdout stdout tick
stdout stdout tick
stdout cancelled in another worker: 202
stdout error Cancelled
stdout exit_code -1
stdout ids ok
stdout pid gone
exit_code 0



=== TEST 11: a full zone refuses a new run with 503; the runs going on lose nothing; once one ended, its record makes room
--- script
i=0
while [ $i -lt 200 ]; do
    R gt start '{"args":["-c","echo up; exec sleep 30"]}' > /tmp/runs-$$-s
    grep -q '^run ' /tmp/runs-$$-s || break
    sed -n 's/^run //p' /tmp/runs-$$-s >> /tmp/runs-$$-ids
    i=$((i + 1))
done
[ $i -gt 0 ] && [ $i -lt 200 ] && echo "runs until the zone was full"
sed 's/"timestamp".*//' /tmp/runs-$$-s
first=$(head -1 /tmp/runs-$$-ids)
R gt events $first --lines 2
R gt delete $first | sed 's/^\([0-9]*\) .*/\1/'
sleep 0.5
R gt post '{"args":["-c","echo next"]}'
for id in $(cat /tmp/runs-$$-ids); do R gt delete $id > /dev/null; done
rm -f /tmp/runs-$$-*
--- sse
started
stdout runs until the zone was full
stdout 503 {\"code\":\"service_unavailable\",\"message\":\"Too many runs kept on this server, retry later\",\"details\":null,\"error_key\":null,\"path\":\"/gt\",\"validation_errors\":[],
stdout started run
stdout stdout up
stdout 202
stdout started run
stdout stdout next
stdout exit_code 0
stdout ids ok
exit_code 0
--- error_log eval
qr/cli_gateway: refused user "alice" args \["-c","echo up; exec sleep 30"\]: the zone "tiny" of cli_gateway_runs is full/



=== TEST 12: a zone too small for replay=: the ring grows as far as the zone has room and stops there, the run streams on whole, a reattach gets a gap then what was kept, and the log says why
--- script
R gc post '{"args":["-c","seq 1 5000"]}' | tail -3
id=$(R gc get /runs | python3 -c 'import json,sys; print(json.loads(sys.stdin.read().split(" ",1)[1])[-1]["run_id"])')
R gc events $id > /tmp/runs-$$-e
head -1 /tmp/runs-$$-e | cut -d' ' -f1
n=$(grep -c '^stdout ' /tmp/runs-$$-e)
[ "$n" -ge 100 ] && echo "what the zone had room for is kept" || echo "$n events kept"
tail -3 /tmp/runs-$$-e
rm -f /tmp/runs-$$-*
--- sse
started
stdout stdout 5000
stdout exit_code 0
stdout ids ok
stdout gap
stdout what the zone had room for is kept
stdout stdout 5000
stdout exit_code 0
stdout ids ok
exit_code 0
--- error_log eval
qr/cli_gateway: the zone "cramped" of cli_gateway_runs is full: run edge-1-[0-9a-f]{16} keeps the last \d{4,} bytes of its log for replay, not 1048576/



=== TEST 13: the API passes the gateway's checks: no admin claim, 403
--- request
GET /g/runs
--- more_headers
X-Role: user
--- error_code: 403
--- json_error
forbidden
Admin role required for CLI gateway



=== TEST 14: a method the list does not take
--- request
POST /g/runs
--- error_code: 405
--- response_headers
Allow: GET, HEAD
--- json_error
method_not_allowed
Method not allowed, use GET, HEAD



=== TEST 15: a method a record does not take
--- request
PUT /g/runs/edge-1-0000000000000000
--- error_code: 405
--- response_headers
Allow: GET, HEAD, DELETE
--- json_error
method_not_allowed
Method not allowed, use GET, HEAD, DELETE



=== TEST 16: events are for GET and HEAD only
--- request
DELETE /g/runs/edge-1-0000000000000000/events
--- error_code: 405
--- response_headers
Allow: GET, HEAD
--- json_error
method_not_allowed
Method not allowed, use GET, HEAD



=== TEST 17: other URIs under the location are not found
--- pipelined_requests eval
["GET /g/other", "GET /g/runs/a/b", "GET /g/runs//events", "GET /g/runsx"]
--- more_headers
X-Role: admin
--- error_code eval
[404, 404, 404, 404]
--- response_body_like eval
[qr/^\{"code":"not_found","message":"Run not found",/,
 qr/^\{"code":"not_found","message":"Run not found",/,
 qr/^\{"code":"not_found","message":"Run not found",/,
 qr/^\{"code":"not_found","message":"Run not found",/]



=== TEST 18: a location without cli_gateway_runs sends the bytes it always did
--- request eval
"POST /p\n" . '{"args":["-c","echo one"]}'
--- sse
started
stdout one
exit_code 0



=== TEST 19: cli_gateway_runs needs a prefix location
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_runs runs;
    }
--- request
POST /cli
--- must_die
--- error_log
"cli_gateway_runs" needs a prefix location: its runs are under "/cli/runs"



=== TEST 20: a zone nobody defined
--- config
    location /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_runs nowhere;
    }
--- request
POST /cli
--- must_die
--- error_log
zero size shared memory zone "nowhere"



=== TEST 21: cli_gateway_runs without cli_gateway
--- config
    location /cli {
        cli_gateway_runs runs;
    }
--- request
POST /cli
--- must_die
--- error_log
"cli_gateway_runs" needs "cli_gateway" in the same location



=== TEST 22: cli_gateway_runs_zone parameters are checked
--- http_config
    cli_gateway_runs_zone zone=r:1m replay=1k;
--- config
--- request
GET /
--- must_die
--- error_log
invalid "replay=1k", at least 4k



=== TEST 23: a node name that could not be routed
--- http_config
    cli_gateway_runs_zone zone=r:1m node=a/b;
--- config
--- request
GET /
--- must_die
--- error_log
node name "a/b" may have letters, digits, ".", "_" and "-" only



=== TEST 24: a zone without its size
--- http_config
    cli_gateway_runs_zone zone=r replay=8k;
--- config
--- request
GET /
--- must_die
--- error_log
invalid zone size "zone=r"



=== TEST 25: an unknown parameter of cli_gateway_runs
--- config
    location /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_runs runs forever=1;
    }
--- request
POST /cli
--- must_die
--- error_log
invalid parameter "forever=1"



=== TEST 26: a run past keep= is gone for its record, its events and a cancel, even when nobody listed the runs since
--- script
a=$(R gk start '{"args":["-c","echo hi"]}' | sed -n 's/^run //p')
b=$(R gk start '{"args":["-c","echo hi"]}' | sed -n 's/^run //p')
c=$(R gk start '{"args":["-c","echo hi"]}' | sed -n 's/^run //p')
R gk get /runs/$a | sed 's/^\([0-9]*\) .*/kept: \1/'
sleep 3.2
R gk get /runs/$a | field '["code"]' | sed 's/^/record /'
R gk events $b | field '["code"]' | sed 's/^/events /'
R gk delete $c | field '["code"]' | sed 's/^/delete /'
--- sse
started
stdout kept: 200
stdout record not_found
stdout events not_found
stdout delete not_found
exit_code 0



=== TEST 27: Last-Event-ID is a hex number: leading zeros beyond 16 digits name the same event; 17 significant digits are not an id
--- script
R g post '{"args":["-c","echo one; echo two"]}' --raw /tmp/runs-$$-a > /dev/null
id=$(R g get /runs | field '[-1]["run_id"]')
first=$(sed -n 's/^id: //p' /tmp/runs-$$-a | sed -n 1p)
R g events $id --last 0000000000000000$first
R g events $id --last 00000000000000000000 --lines 1
R g events $id --last 10000000000000000 | field '["code"], d["message"]'
rm -f /tmp/runs-$$-*
--- sse
started
stdout stdout one
stdout stdout two
stdout exit_code 0
stdout ids ok
stdout started run
stdout bad_request Last-Event-ID is not an event id
exit_code 0



=== TEST 28: a Last-Event-ID at the first byte kept, which cannot be checked, starts at the next whole event after a gap, not within an event
--- script
R gs post '{"args":["-c","seq 1 2000"]}' > /dev/null
id=$(R gs get /runs | field '[-1]["run_id"]')
end=$(R gs get /runs/$id | field '["events_bytes"]')
for back in 4096 4095; do
    R gs events $id --last $(printf %x $((end - back))) > /tmp/runs-$$-e
    head -1 /tmp/runs-$$-e | sed 's/gap [1-9][0-9]*$/gap N/'
    tail -3 /tmp/runs-$$-e
done
rm -f /tmp/runs-$$-*
--- sse
started
stdout gap N
stdout stdout 2000
stdout exit_code 0
stdout ids ok
stdout gap N
stdout stdout 2000
stdout exit_code 0
stdout ids ok
exit_code 0



=== TEST 29: a reattached stream whose last bytes wait for a slow client ends once they are sent: the next request on the connection is answered
--- script
R g post '{"args":["-c","seq 1 5000"]}' > /dev/null
id=$(R g get /runs | field '[-1]["run_id"]')
python3 - $id <<'PY'
import os, socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(os.environ["PORT3"])))
h = "Host: x\r\nX-Role: admin\r\nX-User: alice\r\n\r\n"
s.sendall(("GET /g/runs/%s/events HTTP/1.1\r\n%sGET /g/runs/none HTTP/1.1\r\n%s"
           % (sys.argv[1], h, h)).encode())
time.sleep(1)
s.settimeout(5)
out = b""
try:
    while b'"code":"not_found"' not in out:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
except socket.timeout:
    pass
print("stream ends with exit_code:", b'"exit_code","code":0}' in out and b"\r\n0\r\n\r\n" in out)
print("responses:", out.count(b"HTTP/1.1 "), out.count(b"HTTP/1.1 404"))
PY
--- sse
started
stdout stream ends with exit_code: True
stdout responses: 2 1
exit_code 0



=== TEST 30: a reattached client that is behind (its connection full) is still a client: the run is not stopped as alone, its record says running
--- script
id=$(R2 gd start '{"args":["-c","i=0; while [ $i -lt 50 ]; do seq 1 2000; sleep 0.1; i=$((i+1)); done; echo last"]}' | sed -n 's/^run //p')
python3 - $id <<'PY'
import http.client, json, os, socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(os.environ["PORT3"])))
s.sendall(("GET /gd/runs/%s/events HTTP/1.0\r\nX-Role: admin\r\n"
           "X-User: alice\r\n\r\n" % sys.argv[1]).encode())
time.sleep(2.5)
c = http.client.HTTPConnection("127.0.0.1", int(os.environ["PORT2"]))
c.request("GET", "/gd/runs/" + sys.argv[1], headers={"X-Role": "admin", "X-User": "alice"})
print("state while behind:", json.loads(c.getresponse().read())["state"])
out = b""
s.settimeout(30)
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    out += chunk
for frame in out.split(b"\n\n")[-3:-1]:
    print(frame.split(b"\n")[1].decode())
PY
--- sse
started
stdout state while behind: running
stdout data: {\"type\":\"stdout\",\"data\":\"last\\n\"}
stdout data: {\"type\":\"exit_code\",\"code\":0}
exit_code 0
--- timeout: 40



=== TEST 31: HEAD of a run's events: the headers its stream starts with, no body; the checks of a GET (an unknown id, a bad Last-Event-ID)
--- script
id=$(R g start '{"args":["-c","echo hi; sleep 0.3"]}' | sed -n 's/^run //p')
head_of() { curl -sS -I -H 'X-Role: admin' -H 'X-User: alice' "$@" | tr -d '\r' | grep -iE '^(HTTP|content-type|content-length|cache-control)' | sed 's/^HTTP[^ ]* /status /'; }
head_of "http://127.0.0.1:$PORT/g/runs/$id/events"
head_of -H 'Last-Event-ID: zz' "http://127.0.0.1:$PORT/g/runs/$id/events" | head -1
head_of "http://127.0.0.1:$PORT/g/runs/edge-1-0000000000000000/events" | head -1
sleep 0.5
R g get /runs/$id | field '["state"], d["exit_code"]'
--- sse
started
stdout status 200 OK
stdout Content-Type: text/event-stream
stdout Cache-Control: no-cache
stdout status 400 Bad Request
stdout status 404 Not Found
stdout exited 0
exit_code 0



=== TEST 32: after the last event of a run that exited, 204 and no body (an EventSource stops reconnecting); after an earlier one, the rest; the end of a live run's log waits for what comes
--- script
R g post '{"args":["-c","echo one; echo two"]}' --raw /tmp/runs-$$-a > /dev/null
id=$(R g get /runs | field '[-1]["run_id"]')
end=$(printf %x "$(wc -c < /tmp/runs-$$-a)")
curl -sS -o /dev/null -w '%{http_code} %{size_download}\n' -H 'X-Role: admin' -H 'X-User: alice' -H "Last-Event-ID: $end" "http://127.0.0.1:$PORT/g/runs/$id/events"
last_one=$(grep '^id: ' /tmp/runs-$$-a | tail -2 | head -1 | cut -c5-)
R g events $id --last $last_one
live=$(R g start '{"args":["-c","echo up; sleep 0.5; echo later"]}' | sed -n 's/^run //p')
sleep 0.2
now=$(R g get /runs/$live | field '["events_bytes"]')
R g events $live --last $(printf %x $now)
rm -f /tmp/runs-$$-*
--- sse
started
stdout 204 0
stdout exit_code 0
stdout ids ok
stdout stdout later
stdout exit_code 0
stdout ids ok
exit_code 0
