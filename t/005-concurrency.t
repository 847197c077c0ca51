# Copyright (C) 2026 Seed 79e7e746 maintainers

# Many runs at once across two workers: every exit status is the program's
# own (nginx's SIGCHLD handling must not take them), and nothing is left.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use CliGateway;

master_on();
workers(2);
worker_connections(1024);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: 24 concurrent runs, each with its own exit code
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_env PORT $server_port;
    }
--- request eval
require JSON::PP;
my $script = <<'SH';
n=$1
i=1
while [ "$i" -le "$n" ]; do
    (
        body="{\"args\":[\"-c\",\"sleep 0.2; echo run $i; exit $i\"]}"
        code=$(curl -sS -N -H 'X-Role: admin' \
                    -H 'Content-Type: application/json' -d "$body" \
                    "http://127.0.0.1:$PORT/cli" \
               | sed -n 's/^data: {"type":"exit_code","code":\(.*\)}$/\1/p')
        echo "run $i exit $code"
    ) &
    i=$((i + 1))
done
wait
SH
"POST /cli\n" . JSON::PP::encode_json({ args => ["-c", "{ $script } | sort -n -k 2", "sh", "24"] })
--- timeout: 20
--- sse eval
"started\n" . join("", map { "stdout run $_ exit $_\n" } 1 .. 24) . "exit_code 0\n"
--- no_error_log
unknown process
[alert]
[crit]



=== TEST 2: no zombie is left in any worker after concurrent runs
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_env PORT $server_port;
    }
--- request eval
my $script = <<'SH';
i=1
while [ "$i" -le 16 ]; do
    curl -sS -N -o /dev/null -H 'X-Role: admin' \
         -H 'Content-Type: application/json' \
         -d '{"args":["-c","exit 3"]}' "http://127.0.0.1:$PORT/cli" &
    i=$((i + 1))
done
wait
sleep 0.3
master=$(ps -o ppid= -p $PPID | tr -d ' ')
for worker in $(pgrep -P "$master"); do
    ps -o pid=,stat= --ppid "$worker"
done | COUNT_ZOMBIES
SH
$script =~ s/COUNT_ZOMBIES/CliGateway::count_zombies()/e;
CliGateway::sh($script)
--- timeout: 20
--- sse
started
stdout zombies 0
exit_code 0



=== TEST 3: the worker's descriptors are back to their count after runs of every kind
Normal exits, timeouts and clients that go away, 20 of each.
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_env PORT $server_port;
    }
--- request eval
my $script = <<'SH';
post() {
    curl -sS -N -o /dev/null "$@" -H 'X-Role: admin' \
         -H 'Content-Type: application/json' "http://127.0.0.1:$PORT/cli"
}
# a count of 0 would be ls failing, not a worker without descriptors
fds() { n=$(ls /proc/$PPID/fd | wc -l); [ "$n" -gt 0 ] || exit 9; echo "$n"; }
before=$(fds) || exit 9
i=1
while [ "$i" -le 20 ]; do
    post -d '{"args":["-c","echo out; exit 3"]}' &
    post -d '{"args":["-c","sleep 30.77"],"timeout_secs":0}' &
    post --max-time 0.2 -d '{"args":["-c","echo; sleep 30.77"]}' 2>/dev/null &
    wait
    i=$((i + 1))
done
sleep 0.5
after=$(fds) || exit 9
echo "worker descriptors: $((after - before)) more"
pgrep -x -f 'sleep 30.77'; echo "pgrep $?"
SH
CliGateway::sh($script)
--- timeout: 30
--- sse
started
stdout worker descriptors: 0 more
stdout pgrep 1
exit_code 0
--- no_error_log
[alert]
[crit]
