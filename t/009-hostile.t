# Copyright (C) 2026 Seed 79e7e746 maintainers

# Hostile input: every case gets a clear answer, nothing runs, no worker
# crashes.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use CliGateway;

# a secret file for the token cases: 32 bytes or more
{
    my $file = ($ENV{TMPDIR} || '/tmp') . "/cli-gateway-hostile-$$.secret";
    open my $out, '>', $file or die "$!\n";
    print $out "x" x 40;
    close $out;
    $ENV{TEST_NGINX_SECRET_FILE} = $file;
    END { unlink $file }
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: deeply nested JSON is 400
--- request eval
"POST /cli\n" . ("[" x 100000) . ("]" x 100000)
--- error_code: 400
--- json_error
bad_request
...
--- no_error_log
started pid
[alert]



=== TEST 2: 100,000 args are 422 (cli_gateway_max_args)
--- request eval
"POST /cli\n" . '{"args": [' . join(",", ('"x"') x 100000) . ']}'
--- error_code: 422
--- json_error
validation_error
...
args too_many
--- no_error_log
started pid



=== TEST 3: an arg over cli_gateway_max_arg_length is 422
--- config
    location = /cli {
        cli_gateway /bin/echo;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_max_arg_length 8;
    }
--- request
POST /cli
{"args": ["123456789"]}
--- error_code: 422
--- json_error
validation_error
...
args[0] too_long



=== TEST 4: an infinite timeout is 422, a huge one is clamped
--- request eval
[
"POST /cli\n" . '{"args": ["-c", "echo x"], "timeout_secs": 1e400}',
"POST /cli\n" . '{"args": ["-c", "echo ok"], "timeout_secs": 123456789012345678901234567890}',
]
--- error_code eval
[422, 200]
--- response_body_like eval
[
qr/"field":"timeout_secs","message":"[^"]*","code":"invalid_value"/,
qr/"data":"ok\\n".*"code":0\}/s,
]



=== TEST 5: duplicate keys are 422
--- request
POST /cli
{"args": ["-c", "echo a"], "args": ["-c", "echo b"]}
--- error_code: 422
--- json_error
validation_error
...
args duplicate
--- no_error_log
started pid



=== TEST 6: bytes that are not UTF-8 in an arg are 422
--- request eval
"POST /cli\n{\"args\": [\"-c\", \"echo \xff\xfe\"]}"
--- error_code: 422
--- json_error
validation_error
...
args[1] invalid_value
--- no_error_log
started pid



=== TEST 7: a raw control byte in a string is 400
--- request eval
"POST /cli\n{\"args\": [\"-c\", \"echo \x01\"]}"
--- error_code: 400
--- json_error
bad_request
...



=== TEST 8: a POST with no body at all is 400
--- more_headers
X-Role: admin
Content-Type: application/json
Content-Length: 0
--- request
POST /cli
--- error_code: 400
--- json_error
bad_request
...
--- no_error_log
started pid



=== TEST 9: a chunked request body is read and runs
--- more_headers
X-Role: admin
Content-Type: application/json
Transfer-Encoding: chunked
--- request eval
"POST /cli\n" . "10\r\n{\"args\": [\"-c\", \r\n" . "10\r\n\"echo chunked\"]}\r\n" . "0\r\n\r\n"
--- sse
started
stdout chunked
exit_code 0



=== TEST 10: a body that never finishes times out; nothing runs
nginx ends it with 408 (seen in its debug log, as Debian builds it).
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        client_body_timeout 500ms;
    }
--- more_headers
X-Role: admin
Content-Type: application/json
Content-Length: 100
--- request
POST /cli
{"args": ["-c", "echo never"
--- timeout: 2
--- abort
--- ignore_response
--- error_log
http finalize request: 408
--- no_error_log
started pid
[alert]



=== TEST 11: a token of a megabyte is refused by nginx before the module
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_jwt $http_authorization;
        cli_gateway_jwt_key HS256 $TEST_NGINX_SECRET_FILE;
        cli_gateway_admin_claim $cli_gateway_jwt_claim_user_type admin;
    }
--- more_headers eval
"Content-Type: application/json\nAuthorization: Bearer " . ("A" x (1024 * 1024))
--- request
POST /cli
{"args": []}
--- error_code: 400
--- no_error_log
started pid
[alert]



=== TEST 12: a token of 6 KB that is garbage is 401
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_jwt $http_authorization;
        cli_gateway_jwt_key HS256 $TEST_NGINX_SECRET_FILE;
        cli_gateway_admin_claim $cli_gateway_jwt_claim_user_type admin;
    }
--- more_headers eval
"Content-Type: application/json\nAuthorization: Bearer " . ("eyJ." x 1500) . "x"
--- request
POST /cli
{"args": []}
--- error_code: 401
--- json_error
unauthorized
Invalid token: not a compact JWS



=== TEST 13: pipelined requests on one connection each run, in order
--- pipelined_requests eval
["POST /cli\n{\"args\": [\"-c\", \"echo first; exit 3\"]}",
 "POST /cli\n{\"args\": [\"-c\", \"echo second\"]}"]
--- error_code eval
[200, 200]
--- response_body_like eval
[CliGateway::sse_pattern("started\nstdout first\nexit_code 3"),
 CliGateway::sse_pattern("started\nstdout second\nexit_code 0")]
