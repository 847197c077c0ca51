# Copyright (C) 2026 Seed 79e7e746 maintainers

# cli_gateway_max_running: programs at once across all workers.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use CliGateway;

master_on();
workers(2);
worker_connections(1024);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: over the limit is 429 with Retry-After; the count comes back
--- http_config
    cli_gateway_max_running 2;
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
    }

    location = /driver {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_env PORT $server_port;
    }
--- request eval
require JSON::PP;
my $script = <<'SH';
run() {
    curl -sS -N -D - -H 'X-Role: admin' -H 'Content-Type: application/json' \
         -d "{\"args\":[\"-c\",\"$1\"]}" "http://127.0.0.1:$PORT/cli" \
    | tr -d '\r' \
    | grep -oE '^HTTP/1.1 [0-9]+|^Retry-After: .*|"code":"[a-z_]+"|"type":"exit_code","code":-?[0-9]+'
}
# the driver is one running program, so one more fits
(run 'sleep 1; exit 4' | sed 's/^/first: /') &
sleep 0.4
run 'exit 0'
wait
run 'exit 5'
SH
"POST /driver\n" . JSON::PP::encode_json({ args => ["-c", $script] })
--- timeout: 10
--- sse
started
stdout HTTP/1.1 429
stdout Retry-After: 1
stdout \"code\":\"rate_limited\"
stdout first: HTTP/1.1 200
stdout first: \"type\":\"exit_code\",\"code\":4
stdout HTTP/1.1 200
stdout \"type\":\"exit_code\",\"code\":5
exit_code 0
--- error_log eval
qr/cli_gateway: refused user "-" args \["-c","exit 0"\]: cli_gateway_max_running 2 reached/



=== TEST 2: without cli_gateway_max_running there is no limit
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
    }
--- request
POST /cli
{"args": ["-c", "echo free"]}
--- sse
started
stdout free
exit_code 0



=== TEST 3: cli_gateway_max_running needs a positive number
--- http_config
    cli_gateway_max_running 0;
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
    }
--- request
POST /cli
--- must_die
--- error_log
"cli_gateway_max_running" directive needs a number of programs greater than 0



=== TEST 4: a cap per key, across workers: each user under their own, an empty key under none
alice holds two runs, one in each worker: a third of hers is refused
whichever worker takes it. bob has his own two; runs without the header
(an empty key) are not capped; alice's count comes back when hers end.
--- http_config
    cli_gateway_max_running 2 key=$http_x_user;
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
    }

    location = /driver {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_env PORT $server_port;
    }
--- request eval
require JSON::PP;
my $script = $CliGateway::hold_sh . <<'SH';
hold alice; w1=$got; a1=$n
# her second run in the other worker: one that lands in the first's is let
# go, and tried again once its count is back
for _ in $(seq 100); do
    hold alice
    case $got in
    "$w1") let_go $n ;;
    ''|*[!0-9]*) sleep 0.1 ;;
    *) break ;;
    esac
done
a2=$n
[ "$(is_run "$got")" = run ] && [ "$got" != "$w1" ] \
    && echo "alice has a run in each worker" || echo "alice: $w1 $got"
hold alice; echo "alice, a third: $got"
hold bob; b1=$(is_run "$got"); hold bob; b2=$(is_run "$got")
hold bob; echo "bob: $b1 $b2, a third: $got"
hold ''; e1=$(is_run "$got"); hold ''; e2=$(is_run "$got")
hold ''; echo "no key: $e1 $e2 $(is_run "$got")"
let_go $a1; let_go $a2
for _ in $(seq 50); do
    hold alice
    [ "$(is_run "$got")" = run ] && break
    sleep 0.1
done
echo "alice once hers ended: $(is_run "$got")"
SH
"POST /driver\n" . JSON::PP::encode_json({ args => ["-c", $script] })
--- timeout: 30
--- sse
started
stdout alice has a run in each worker
stdout alice, a third: HTTP/1.1 429 Retry-After: 1 \"code\":\"rate_limited\" \"message\":\"Too many programs running, retry later\"
stdout bob: run run, a third: HTTP/1.1 429 Retry-After: 1 \"code\":\"rate_limited\" \"message\":\"Too many programs running, retry later\"
stdout no key: run run run
stdout alice once hers ended: run
exit_code 0
--- error_log eval
[
qr/cli_gateway: refused user "-" args \["-c","echo \$PPID; exec sleep 39.71"\]: cli_gateway_max_running 2 key=\$http_x_user reached for "alice"/,
qr/cli_gateway_max_running 2 key=\$http_x_user reached for "bob"/,
]
--- no_error_log
[alert]
[crit]



=== TEST 5: the keyed cap of a location beside the machine's cap; the key is escaped in the log
--- http_config
    cli_gateway_max_running 3;
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_max_running 1 key=$http_x_user;
    }

    location = /driver {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_env PORT $server_port;
    }
--- request eval
require JSON::PP;
my $script = $CliGateway::hold_sh . <<'SH';
# the driver is one of the three
alice=$(printf 'a"lice\\\303\251')
hold "$alice"; echo "alice: $(is_run "$got")"
hold "$alice"; echo "alice again: $got"
hold bob; echo "bob: $(is_run "$got")"
hold carol; echo "carol: $got"
SH
"POST /driver\n" . JSON::PP::encode_json({ args => ["-c", $script] })
--- timeout: 20
--- sse
started
stdout alice: run
stdout alice again: HTTP/1.1 429 Retry-After: 1 \"code\":\"rate_limited\" \"message\":\"Too many programs running, retry later\"
stdout bob: run
stdout carol: HTTP/1.1 429 Retry-After: 1 \"code\":\"rate_limited\" \"message\":\"Too many programs running, retry later\"
exit_code 0
--- error_log eval
[
qr/cli_gateway_max_running 1 key=\$http_x_user reached for "a\\"lice\\\\\\xc3\\xa9"/,
qr/cli_gateway_max_running 3 reached/,
]



=== TEST 6: a key whose node finds the ledger full is 503; the nodes go with their runs
Keys of 30 KB take eight pages of the ledger's zone each. Once one finds
no room the request is 503; after the runs end, the same number fit again.
--- config
    large_client_header_buffers 4 64k;

    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_max_running 1 key=$http_x_user;
    }

    location = /driver {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_env PORT $server_port;
    }
--- request eval
require JSON::PP;
my $script = $CliGateway::hold_sh . <<'SH';
# fill ROUND: runs with new long keys until one is refused; prints how many
fill() {
    first=$((n + 1)) runs=0
    while [ "$runs" -lt 40 ]; do
        hold "$(printf "%030000d" "$n")"
        [ "$(is_run "$got")" = run ] || break
        runs=$((runs + 1))
    done
    refusal=$got
    last=$n
    while [ "$first" -le "$last" ]; do let_go "$first"; first=$((first + 1)); done
}
fill
echo "refused: $refusal"
before=$runs
[ "$before" -ge 4 ] && echo "some runs fit first" || echo "only $before runs fit"
sleep 1
fill
[ "$runs" -eq "$before" ] && echo "as many fit again" || echo "$before, then $runs"
SH
"POST /driver\n" . JSON::PP::encode_json({ args => ["-c", $script] })
--- timeout: 60
--- sse
started
stdout refused: HTTP/1.1 503 Retry-After: 1 \"code\":\"service_unavailable\" \"message\":\"Too many programs running on this server, retry later\"
stdout some runs fit first
stdout as many fit again
exit_code 0
--- error_log
the ledger of running programs is full



=== TEST 7: key= needs a value with a variable
--- http_config
    cli_gateway_max_running 2 key=;
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
    }
--- request
POST /cli
--- must_die
--- error_log
"cli_gateway_max_running" "key=" has no variable, use e.g. key=$cli_gateway_user



=== TEST 8: a constant key would be one key for everyone
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_max_running 2 key=everyone;
    }
--- request
POST /cli
--- must_die
--- error_log
"cli_gateway_max_running" "key=everyone" has no variable



=== TEST 9: the keyed form needs a positive number too
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_max_running 0 key=$remote_user;
    }
--- request
POST /cli
--- must_die
--- error_log
"cli_gateway_max_running" directive needs a number of programs greater than 0



=== TEST 10: an unknown parameter
--- http_config
    cli_gateway_max_running 2 user=$remote_user;
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
    }
--- request
POST /cli
--- must_die
--- error_log
"cli_gateway_max_running": invalid parameter "user=$remote_user", expected "key="



=== TEST 11: the machine's cap is set at the http level only
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_max_running 2;
    }
--- request
POST /cli
--- must_die
--- error_log
"cli_gateway_max_running" directive without "key=" is only allowed at the http level



=== TEST 12: one keyed cap per level
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_max_running 2 key=$remote_user;
        cli_gateway_max_running 3 key=$remote_addr;
    }
--- request
POST /cli
--- must_die
--- error_log
"cli_gateway_max_running" directive with "key=" is duplicate
