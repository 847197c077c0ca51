# Copyright (C) 2026 Seed 79e7e746 maintainers

# cli_gateway_status: the metrics of every worker, from the shared ledger,
# in Prometheus' text format or JSON; its own refusals count like others.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use CliGateway;

master_on();
workers(2);
worker_connections(1024);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: after known runs and refusals, exactly those counters moved; the JSON agrees
Three runs exit 0, one 3, one times out; one caller is no admin (403), one
sends text (415). The driver is a run too, started before the first look.
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
    }

    location = /metrics {
        cli_gateway_status;
    }

    location = /driver {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_env PORT $server_port;
    }
--- request eval
require JSON::PP;
my $script = $CliGateway::metrics_sh . <<'SH';
before=$(metrics)
run '{"args":["-c","echo one"]}'
run '{"args":["-c","echo two"]}'
run '{"args":["-c","true"]}'
run '{"args":["-c","echo err >&2; exit 3"]}'
run '{"args":["-c","exec sleep 31.7"],"timeout_secs":0}'
ask -H 'X-Role: user' -H 'Content-Type: application/json' \
    -d '{"args":[]}' "http://127.0.0.1:$PORT/cli"
ask -H 'X-Role: admin' -H 'Content-Type: text/plain' \
    -d '{"args":[]}' "http://127.0.0.1:$PORT/cli"
sleep 0.3
after=$(metrics)
json=$(curl -sS "http://127.0.0.1:$PORT/metrics?format=json")
changes "$before" "$after"
# the JSON has the same numbers in the same order, the derived ones too
# (nothing ran between the two: the driver prints only after them)
text=$(echo "$after" | awk '!/^#/ { printf "%s ", $2 }')
json=$(echo "$json" | grep -oE -- '-?[0-9]+' | tr '\n' ' ')
[ "$text" = "$json" ] && echo "the JSON says the same" || echo "$text / $json"
SH
"POST /driver\n" . JSON::PP::encode_json({ args => ["-c", $script] })
--- timeout: 20
--- sse
started
stdout cli_gateway_runs_started_total +5
stdout cli_gateway_runs_running 1
stdout cli_gateway_runs_detached 0
stdout cli_gateway_requests_refused_total{reason=\"forbidden\"} +1
stdout cli_gateway_requests_refused_total{reason=\"unsupported_media_type\"} +1
stdout cli_gateway_runs_exited_total{kind=\"exited\"} +3
stdout cli_gateway_runs_exited_total{kind=\"failed\"} +1
stdout cli_gateway_runs_exited_total{kind=\"timeout\"} +1
stdout cli_gateway_runs_timeouts_total +1
stdout cli_gateway_output_bytes_total +12
stdout cli_gateway_events_bytes_total + the SSE bytes the clients got
stdout the JSON says the same
exit_code 0
--- no_error_log
[alert]
[crit]



=== TEST 2: the other ends and refusals: a signal, a spawn failure, the output limit, a client gone, 405, 400
A program killed by a signal of its own; a program that is not there (not
a start); the output limit; a client that goes; a GET of the gateway and a
POST of the status (405); an unknown format (400).
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
    }

    location = /missing {
        cli_gateway /nonexistent/cli-gateway-test;
        cli_gateway_admin_claim $http_x_role admin;
    }

    location = /limited {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_output_max 10;
    }

    location = /metrics {
        cli_gateway_status;
    }

    location = /driver {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_env PORT $server_port;
    }
--- request eval
require JSON::PP;
my $script = $CliGateway::metrics_sh . <<'SH';
before=$(metrics)
run '{"args":["-c","kill -9 $$"]}'
run '{"args":[]}' /missing
run '{"args":["-c","yes"]}' /limited
run '{"args":["-c","echo; exec sleep 31.7"]}' /cli --max-time 1
ask "http://127.0.0.1:$PORT/cli"
ask -X POST "http://127.0.0.1:$PORT/metrics"
ask "http://127.0.0.1:$PORT/metrics?format=xml"
sleep 0.5
changes "$before" "$(metrics)"
SH
"POST /driver\n" . JSON::PP::encode_json({ args => ["-c", $script] })
--- timeout: 20
--- sse
started
stdout cli_gateway_runs_started_total +3
stdout cli_gateway_runs_running 1
stdout cli_gateway_runs_detached 0
stdout cli_gateway_requests_refused_total{reason=\"method_not_allowed\"} +2
stdout cli_gateway_requests_refused_total{reason=\"bad_request\"} +1
stdout cli_gateway_runs_exited_total{kind=\"signaled\"} +1
stdout cli_gateway_runs_exited_total{kind=\"client_gone\"} +1
stdout cli_gateway_runs_exited_total{kind=\"output_limit\"} +1
stdout cli_gateway_runs_exited_total{kind=\"spawn_failed\"} +1
stdout cli_gateway_output_bytes_total +11
stdout cli_gateway_events_bytes_total + the SSE bytes the clients got
exit_code 0
--- no_error_log
[alert]
[crit]



=== TEST 3: every series is there from the start, with HELP and TYPE
--- config
    location = /metrics {
        cli_gateway_status;
    }
--- request
GET /metrics
--- more_headers
--- response_headers
Content-Type: text/plain; version=0.0.4; charset=utf-8
--- response_body_like eval
my @reasons = qw(forbidden unauthorized method_not_allowed
                 unsupported_media_type bad_request validation_error
                 payload_too_large rate_limited service_unavailable
                 not_found conflict);
my @kinds = qw(exited failed signaled timeout cancelled client_gone
               output_limit detach_timeout spawn_failed worker_exit);
my $metric = sub {
    my ($name, $type, @samples) = @_;
    @samples = ($name) if !@samples;
    "# HELP $name [^\\n]+\\n# TYPE $name $type\\n"
    . join('', map { quotemeta($_) . ' -?\d+\n' } @samples);
};
'\A'
. $metric->('cli_gateway_runs_started_total', 'counter')
. $metric->('cli_gateway_runs_running', 'gauge')
. $metric->('cli_gateway_runs_detached', 'gauge')
. $metric->('cli_gateway_requests_refused_total', 'counter',
            map { "cli_gateway_requests_refused_total{reason=\"$_\"}" } @reasons)
. $metric->('cli_gateway_runs_exited_total', 'counter',
            map { "cli_gateway_runs_exited_total{kind=\"$_\"}" } @kinds)
. $metric->('cli_gateway_runs_timeouts_total', 'counter')
. $metric->('cli_gateway_runs_cancelled_total', 'counter')
. $metric->('cli_gateway_output_bytes_total', 'counter')
. $metric->('cli_gateway_events_bytes_total', 'counter')
. '\z'



=== TEST 4: ?format=json
--- config
    location = /metrics {
        cli_gateway_status;
    }
--- request
GET /metrics?format=json
--- more_headers
--- response_headers
Content-Type: application/json
--- response_body_like eval
my $n = '-?\d+';
my $obj = sub { '\{' . join(',', map { "\"$_\":$n" } @_) . '\}' };
'\A\{"runs_started":\d+,"runs_running":\d+,"runs_detached":' . $n
. ',"requests_refused":'
. $obj->(qw(forbidden unauthorized method_not_allowed unsupported_media_type
            bad_request validation_error payload_too_large rate_limited
            service_unavailable not_found conflict))
. ',"runs_exited":'
. $obj->(qw(exited failed signaled timeout cancelled client_gone
            output_limit detach_timeout spawn_failed worker_exit))
. ',"timeouts":\d+,"cancelled":\d+,"output_bytes":\d+,"events_bytes":\d+\}\z'



=== TEST 5: other methods: 405, Allow: GET, HEAD, the JSON error
--- config
    location = /metrics {
        cli_gateway_status;
    }
--- request
POST /metrics
{}
--- error_code: 405
--- response_headers
Allow: GET, HEAD
Content-Type: application/json
--- json_error
method_not_allowed
Method not allowed, use GET



=== TEST 6: HEAD: the header alone
--- config
    location = /metrics {
        cli_gateway_status;
    }
--- request
HEAD /metrics
--- more_headers
--- response_headers
Content-Type: text/plain; version=0.0.4; charset=utf-8
--- response_body



=== TEST 7: an unknown format is 400; format=prometheus is the default's
--- config
    location = /metrics {
        cli_gateway_status;
    }
--- pipelined_requests eval
["GET /metrics?format=xml", "GET /metrics?format=prometheus"]
--- more_headers
--- error_code eval
[400, 200]
--- response_body_like eval
['\A\{"code":"bad_request","message":"Unknown format, use format=prometheus or format=json",',
 '\A# HELP cli_gateway_runs_started_total ']



=== TEST 8: the status location needs no gateway in the configuration
--- config
    location = /metrics {
        cli_gateway_status;
    }
--- request
GET /metrics
--- more_headers
--- response_body_like
(?m)^cli_gateway_runs_running 0$



=== TEST 9: cli_gateway_status takes no argument
--- config
    location = /metrics {
        cli_gateway_status on;
    }
--- request
GET /metrics
--- must_die
--- error_log
invalid number of arguments in "cli_gateway_status" directive



=== TEST 10: not in the gateway's location, in either order
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_status;
    }
--- request
GET /cli
--- must_die
--- error_log
"cli_gateway_status" directive is not allowed in a location with "cli_gateway"



=== TEST 11: cli_gateway after cli_gateway_status
--- config
    location = /cli {
        cli_gateway_status;
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
    }
--- request
GET /cli
--- must_die
--- error_log
"cli_gateway" directive is not allowed in a location with "cli_gateway_status"



=== TEST 12: in a location only
--- config
    cli_gateway_status;
--- request
GET /metrics
--- must_die
--- error_log
"cli_gateway_status" directive is not allowed here
