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
