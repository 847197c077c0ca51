# Copyright (C) 2026 Seed 79e7e746 maintainers

# Errors before the stream: status, headers and the JSON body of SPEC §2;
# and nothing is spawned.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use CliGateway;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: no admin claim: 403, the original's message
--- more_headers
Content-Type: application/json
--- request
POST /cli
{"args": ["-c", "echo never"]}
--- error_code: 403
--- response_headers
Content-Type: application/json
--- json_error
forbidden
Admin role required for CLI gateway
--- error_log
admin claim "" not accepted
--- no_error_log
started pid



=== TEST 2: a claim that is not the admin value: 403
--- more_headers
X-Role: user
Content-Type: application/json
--- request
POST /cli
{"args": ["-c", "echo never"]}
--- error_code: 403
--- json_error
forbidden
Admin role required for CLI gateway
--- no_error_log
started pid



=== TEST 3: several accepted values
--- config
    location = /cli {
        cli_gateway /bin/echo;
        cli_gateway_admin_claim $http_x_role admin owner;
    }
--- more_headers
X-Role: owner
Content-Type: application/json
--- request
POST /cli
{"args": ["ok"]}
--- sse
started
stdout ok
exit_code 0



=== TEST 4: the exact bytes of a 403 body, path and trace id included
--- more_headers
Content-Type: application/json
--- request
POST /cli?x=1
{"args": []}
--- error_code: 403
--- response_body_like chomp
\A\{"code":"forbidden","message":"Admin role required for CLI gateway","details":null,"error_key":null,"path":"/cli","validation_errors":\[\],"timestamp":"20\d\d-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-6]\dZ","trace_id":"[0-9a-f]{32}"\}\z



=== TEST 5: GET is 405 with Allow: POST
--- request
GET /cli
--- error_code: 405
--- response_headers
Allow: POST
Content-Type: application/json
--- json_error
method_not_allowed
...
--- no_error_log
started pid



=== TEST 6: PUT with a body is 405 too
--- request
PUT /cli
{"args": []}
--- error_code: 405
--- response_headers
Allow: POST
--- json_error
method_not_allowed
...



=== TEST 7: no Content-Type is 415
--- more_headers
X-Role: admin
--- request
POST /cli
{"args": ["-c", "echo never"]}
--- error_code: 415
--- json_error
unsupported_media_type
...
--- no_error_log
started pid



=== TEST 8: a form Content-Type is 415
--- more_headers
X-Role: admin
Content-Type: application/x-www-form-urlencoded
--- request
POST /cli
{"args": ["-c", "echo never"]}
--- error_code: 415
--- json_error
unsupported_media_type
...



=== TEST 9: JSON with a charset parameter is accepted
--- more_headers
X-Role: admin
Content-Type: application/json; charset=utf-8
--- request
POST /cli
{"args": ["-c", "echo ok"]}
--- sse
started
stdout ok
exit_code 0



=== TEST 10: a body that is not JSON is 400
--- request
POST /cli
{"args": ["-c", "echo never"]
--- error_code: 400
--- json_error
bad_request
...
--- no_error_log
started pid



=== TEST 11: an empty body is 400
--- request
POST /cli
--- error_code: 400
--- json_error
bad_request
...



=== TEST 12: args missing is 422
--- request
POST /cli
{"timeout_secs": 5}
--- error_code: 422
--- json_error
validation_error
...
args missing
--- no_error_log
started pid



=== TEST 13: args not an array is 422
--- request
POST /cli
{"args": "echo hi"}
--- error_code: 422
--- json_error
validation_error
...
args invalid_type



=== TEST 14: an arg that is not a string is 422 and names it
--- request
POST /cli
{"args": ["-c", 42]}
--- error_code: 422
--- json_error
validation_error
...
args[1] invalid_type



=== TEST 15: NUL in an arg is 422
--- request
POST /cli
{"args": ["-c", "echo a\u0000b"]}
--- error_code: 422
--- json_error
validation_error
...
args[1] invalid_value
--- no_error_log
started pid



=== TEST 16: a negative timeout is 422
--- request
POST /cli
{"args": [], "timeout_secs": -1}
--- error_code: 422
--- json_error
validation_error
...
timeout_secs invalid_value



=== TEST 17: a fractional timeout is 422
--- request
POST /cli
{"args": [], "timeout_secs": 1.5}
--- error_code: 422
--- json_error
validation_error
...
timeout_secs invalid_value



=== TEST 18: a string timeout is 422
--- request
POST /cli
{"args": [], "timeout_secs": "10"}
--- error_code: 422
--- json_error
validation_error
...
timeout_secs invalid_type



=== TEST 19: a JSON array body is 422
--- request
POST /cli
["-c", "echo never"]
--- error_code: 422
--- json_error
validation_error
...
body invalid_type



=== TEST 20: a body over Content-Length limit is 413, unread
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_max_body_size 64;
    }
--- request eval
"POST /cli\n" . '{"args": ["-c", "echo ' . ("x" x 100) . '"]}'
--- error_code: 413
--- json_error
payload_too_large
...
--- no_error_log
started pid



=== TEST 21: a chunked body over the limit is 413
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_max_body_size 64;
    }
--- more_headers
X-Role: admin
Content-Type: application/json
Transfer-Encoding: chunked
--- request eval
my $body = '{"args": ["-c", "echo ' . ("x" x 100) . '"]}';
"POST /cli\n" . sprintf("%x\r\n%s\r\n0\r\n\r\n", length $body, $body)
--- error_code: 413
--- json_error
payload_too_large
...
--- no_error_log
started pid



=== TEST 22: a body in nginx's temporary file is read
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        client_body_buffer_size 1k;
    }
--- request eval
"POST /cli\n" . '{"args": ["-c", "echo ok", "' . ("p" x 4000) . '"]}'
--- sse
started
stdout ok
exit_code 0



=== TEST 23: a claim is checked before the body: a non-admin gets 403 for any body
--- more_headers
X-Role: guest
Content-Type: text/plain
--- request
POST /cli
not json at all
--- error_code: 403
--- json_error
forbidden
Admin role required for CLI gateway



=== TEST 24: Expect: 100-continue from a non-admin: 403 without "100 Continue", connection closed
The client waits for "100 Continue" and never sends its body: the 403 must
come without it, and the connection must not wait for the body (else the
client socket times out here).
--- raw_request eval
"POST /cli HTTP/1.1\r\nHost: localhost\r\nX-Role: user\r\n"
. "Content-Type: application/json\r\nContent-Length: 30\r\n"
. "Expect: 100-continue\r\n\r\n"
--- timeout: 3
--- error_code: 403
--- raw_response_headers_like eval
'\AHTTP/1\.1 403 [^\r]*\r\n(?:[^\r]+\r\n)*Connection: close\r\n'
--- raw_response_headers_unlike eval
'100 Continue'
--- json_error
forbidden
Admin role required for CLI gateway
--- no_error_log
started pid



=== TEST 25: Expect: 100-continue with the wrong method: 405 without "100 Continue"
--- raw_request eval
"PUT /cli HTTP/1.1\r\nHost: localhost\r\nX-Role: admin\r\n"
. "Content-Type: application/json\r\nContent-Length: 30\r\n"
. "Expect: 100-Continue\r\n\r\n"
--- timeout: 3
--- error_code: 405
--- raw_response_headers_like eval
'\AHTTP/1\.1 405 [^\r]*\r\n(?:[^\r]+\r\n)*Connection: close\r\n'
--- json_error
method_not_allowed
...



=== TEST 26: Expect: 100-continue with a Content-Type that is not JSON: 415 without "100 Continue"
--- raw_request eval
"POST /cli HTTP/1.1\r\nHost: localhost\r\nX-Role: admin\r\n"
. "Content-Type: text/plain\r\nContent-Length: 30\r\n"
. "Expect: 100-continue\r\n\r\n"
--- timeout: 3
--- error_code: 415
--- raw_response_headers_like eval
'\AHTTP/1\.1 415 [^\r]*\r\n(?:[^\r]+\r\n)*Connection: close\r\n'
--- json_error
unsupported_media_type
...
--- no_error_log
started pid



=== TEST 27: Expect: 100-continue with a Content-Length over the limit: 413 without "100 Continue"
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_max_body_size 16;
    }
--- raw_request eval
"POST /cli HTTP/1.1\r\nHost: localhost\r\nX-Role: admin\r\n"
. "Content-Type: application/json\r\nContent-Length: 100\r\n"
. "Expect: 100-continue\r\n\r\n"
--- timeout: 3
--- error_code: 413
--- raw_response_headers_like eval
'\AHTTP/1\.1 413 [^\r]*\r\n(?:[^\r]+\r\n)*Connection: close\r\n'
--- json_error
payload_too_large
...
--- no_error_log
started pid



=== TEST 28: a refused client that sends its body anyway: the 403 alone, then the connection closes
The next request on the connection is not taken for the body, nor served.
--- raw_request eval
"POST /cli HTTP/1.1\r\nHost: localhost\r\nX-Role: user\r\n"
. "Content-Type: application/json\r\nContent-Length: 30\r\n"
. "Expect: 100-continue\r\n\r\n"
. '{"args": ["-c", "echo never"]}'
. "POST /cli HTTP/1.1\r\nHost: localhost\r\nX-Role: admin\r\n"
. "Content-Type: application/json\r\nContent-Length: 30\r\n\r\n"
. '{"args": ["-c", "echo never"]}'
--- timeout: 3
--- error_code: 403
--- raw_response_headers_like eval
'\AHTTP/1\.1 403 [^\r]*\r\n(?:[^\r]+\r\n)*Connection: close\r\n'
--- json_error
forbidden
Admin role required for CLI gateway
--- no_error_log
started pid



=== TEST 29: an admin's Expect: 100-continue gets "100 Continue", then the body is read and runs
The body goes only after a pause, as a client that waits for the 100 would.
--- raw_request eval
["POST /cli HTTP/1.1\r\nHost: localhost\r\nX-Role: admin\r\n"
 . "Content-Type: application/json\r\nContent-Length: 27\r\n"
 . "Connection: close\r\nExpect: 100-continue\r\n\r\n",
 '{"args": ["-c", "echo go"]}']
--- raw_request_middle_delay: 0.3
--- timeout: 3
--- error_code: 100
--- raw_response_headers_like eval
'\AHTTP/1\.1 100 Continue\r\n\z'
--- response_body_like
\AHTTP/1\.1 200 OK\r\n.*"type":"started".*"data":"go\\n".*"type":"exit_code","code":0\}
