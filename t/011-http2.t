# Copyright (C) 2026 Seed 79e7e746 maintainers

# The stream over HTTP/2 with TLS (h2), read by curl. The certificate is
# made at test time with the openssl command line. Each test runs curl
# through the gateway itself against a TLS listener of the same nginx on
# port 1991, and expects what curl printed; t/001-stream.t has h2c.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use CliGateway;
use File::Temp qw(tempdir);
use JSON::PP ();
use Cwd qw(abs_path);

our $dir = tempdir('cli-gateway-tls.XXXXXX', TMPDIR => 1, CLEANUP => 1);
system("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
       . " -nodes -days 1 -subj /CN=localhost -keyout $dir/test.key"
       . " -out $dir/test.crt 2>/dev/null") == 0
    or die "openssl req failed\n";
$ENV{TEST_NGINX_TLS_DIR} = $dir;
$ENV{TEST_NGINX_H2_RESET} = abs_path('t/lib/h2-reset.py');

# the request body that runs SCRIPT with sh -c
sub body { JSON::PP->new->encode({ args => ['-c', shift] }) }

sub shell_quote { my $s = shift; $s =~ s/'/'\\''/g; return "'$s'" }

# transfer(SCRIPT, CURL_OPTIONS): curl's arguments for a POST over h2 with
# TLS that runs SCRIPT; h2() is the command line
sub transfer {
    my ($script, $options) = @_;
    return "-sS -N -k --http2 -H 'X-Role: admin'"
           . " -H 'Content-Type: application/json' $options"
           . ' -d ' . shell_quote(body($script))
           . ' https://127.0.0.1:1991/cli';
}

sub h2 { 'curl ' . transfer(@_) }

# the request whose program runs the curl command line CMD
sub via_gateway { "POST /cli\n" . body(shift) }

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('config', <<'CONF') unless defined $block->config;
    listen 127.0.0.1:1991 ssl http2;
    ssl_certificate     $TEST_NGINX_TLS_DIR/test.crt;
    ssl_certificate_key $TEST_NGINX_TLS_DIR/test.key;

    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_user $ssl_protocol;
        access_log logs/h2.log h2;
    }

    location = /log {
        alias logs/h2.log;
    }
CONF

    $block->set_value('http_config', <<'CONF');
    log_format h2 '$server_protocol $status $cli_gateway_user exit=$cli_gateway_exit_code c=$connection';
CONF
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the stream over h2 with TLS: headers, events, exit code
--- request eval
main::via_gateway(main::h2('echo first; echo oops >&2; exit 4', '-D -')
    . " | tr -d '\\r' | grep -v -e '^\$' -e started -e '^date:' -e '^server:'")
--- sse
started
stdout HTTP/2 200 
stdout content-type: text/event-stream
stdout cache-control: no-cache
stdout x-accel-buffering: no
stdout event: cli
stdout event: cli
stdout data: {\"type\":\"stdout\",\"data\":\"first\\n\"}
stdout event: cli
stdout data: {\"type\":\"stderr\",\"data\":\"oops\\n\"}
stdout event: cli
stdout data: {\"type\":\"exit_code\",\"code\":4}
exit_code 0
--- no_error_log
[error]



=== TEST 2: the access log of an h2 run
--- request eval
[
main::via_gateway(main::h2('exit 6', '-o /dev/null')),
"GET /log",
]
--- error_code eval
[200, 200]
--- response_body_like eval
[
qr/"code":0\}\n\n\z/,
qr/\AHTTP\/2\.0 200 TLSv1\.[23] exit=6 c=\d+\nHTTP\/1\.1 200  exit=0 c=\d+\n\z/,
]



=== TEST 3: two runs multiplexed on one connection
--- request eval
[
main::via_gateway(main::h2('sleep 0.2; echo one', "-Z -o $main::dir/first")
    . ' --next '
    . main::transfer('echo two; sleep 0.4; echo three', "-o $main::dir/second")
    . " 2>/dev/null && cat $main::dir/first $main::dir/second"
    . q{ | grep data | sed 's/"pid":[0-9]*/"pid":N/'}),
"GET /log",
]
--- error_code eval
[200, 200]
--- response_body_like eval
[
CliGateway::sse_pattern(<<'SSE'),
started
stdout data: {\"type\":\"started\",\"pid\":N}
stdout data: {\"type\":\"stdout\",\"data\":\"one\\n\"}
stdout data: {\"type\":\"exit_code\",\"code\":0}
stdout data: {\"type\":\"started\",\"pid\":N}
stdout data: {\"type\":\"stdout\",\"data\":\"two\\n\"}
stdout data: {\"type\":\"stdout\",\"data\":\"three\\n\"}
stdout data: {\"type\":\"exit_code\",\"code\":0}
exit_code 0
SSE
qr/\AHTTP\/2\.0 200 \S+ exit=0 c=(\d+)\nHTTP\/2\.0 200 \S+ exit=0 c=\1\n/,
]



=== TEST 4: a client that gives up on an h2 stream gets its program stopped
Its `sleep 27.7` is spelt so that no command line but its own has it.
--- request eval
main::via_gateway(main::h2('echo slow; sleep 27.$((3 + 4))',
                           "--max-time 1 -o $main::dir/out 2>/dev/null")
    . "; echo curl \$?; grep -c slow $main::dir/out; sleep 0.5;"
    . ' pgrep -f "sleep 27[.]7"; echo pgrep $?')
--- timeout: 5
--- sse
started
stdout curl 28
stdout 1
stdout pgrep 1
exit_code 0
--- error_log eval
[
qr/request ended before pid \d+, stopping it/,
qr/pid \d+ killed by signal 15/,
]



=== TEST 5: a stream reset while its frames wait in the h2 queue: they are sent whole and its own
The run of the reset stream ends while nginx still holds its DATA frames;
a second run on the connection must not lend them its buffers (h2c,
t/lib/h2-reset.py).
--- config
    listen 127.0.0.1:1991 http2;

    location = /cli {
        cli_gateway /usr/bin/python3;
        cli_gateway_admin_claim $http_x_role admin;
    }
--- request eval
"POST /cli\n" . JSON::PP->new->encode({ args => [$ENV{TEST_NGINX_H2_RESET}, '127.0.0.1:1991', '/cli'] })
--- timeout: 30
--- sse
started
stdout framing intact: True
stdout stream 1 got some lines: True
stdout stream 1 lines are its own, in order: True
stdout stream 3 lines complete, in order: True
stdout stream 3 ends with exit_code 0: True
exit_code 0
--- no_error_log
[alert]
[crit]
