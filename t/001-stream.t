# Copyright (C) 2026 Seed 79e7e746 maintainers

# The event stream of SPEC §2: bytes on the wire for each kind of output.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use CliGateway;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: stdout lines stream as events, exit_code comes last
--- request
POST /cli
{"args": ["-c", "echo hello; echo world"]}
--- sse
started
stdout hello
stdout world
exit_code 0
--- no_error_log
[error]



=== TEST 2: the stream's headers
--- request
POST /cli
{"args": ["-c", "true"]}
--- response_headers
Content-Type: text/event-stream
Cache-Control: no-cache
X-Accel-Buffering: no
!Content-Length
--- raw_response_headers_like
Transfer-Encoding: chunked\r
--- sse
started
exit_code 0



=== TEST 3: stderr lines, and the program's exit status
--- request
POST /cli
{"args": ["-c", "echo out; sleep 0.2; echo 'warning: careful' >&2; exit 3"]}
--- sse
started
stdout out
stderr warning: careful
exit_code 3



=== TEST 4: CRLF loses its CR; a final line without newline still ends in \n
--- request
POST /cli
{"args": ["-c", "printf 'a\\r\\nb\\r\\nlast'"]}
--- sse
started
stdout a
stdout b
stdout last
exit_code 0



=== TEST 5: a CR inside a line and a CR ending the output are kept
--- request
POST /cli
{"args": ["-c", "printf 'x\\ry\\nz\\r'"]}
--- sse
started
stdout x\ry
stdout z\r
exit_code 0



=== TEST 6: empty lines are events too
--- request
POST /cli
{"args": ["-c", "printf '\\n\\n'"]}
--- sse
started
stdout 
stdout 
exit_code 0



=== TEST 7: JSON escaping of quotes, backslashes and control bytes
--- request
POST /cli
{"args": ["-c", "printf '\\042q\\042 \\134 \\011 \\001 \\037 \\010 \\014 /\\n'"]}
--- sse
started
stdout \"q\" \\ \t \u0001 \u001f \b \f /
exit_code 0



=== TEST 8: UTF-8 passes through as is
--- request
POST /cli
{"args": ["-c", "printf 'caf\\303\\251 \\342\\202\\254 \\360\\237\\230\\200\\n'"]}
--- sse
started
stdout caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80
exit_code 0



=== TEST 9: invalid UTF-8 becomes U+FFFD and the stream goes on
--- request
POST /cli
{"args": ["-c", "printf 'a\\377b\\300\\257c\\n'; printf 'cut \\360\\237\\230\\n'; echo after"]}
--- sse
started
stdout a\xef\xbf\xbdb\xef\xbf\xbd\xef\xbf\xbdc
stdout cut \xef\xbf\xbd
stdout after
exit_code 0



=== TEST 10: a line longer than cli_gateway_line_max is split
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_line_max 64;
    }
--- request
POST /cli
{"args": ["-c", "printf '%0100d\\n' 0; echo short"]}
--- sse
started
stdout 0000000000000000000000000000000000000000000000000000000000000000
stdout 000000000000000000000000000000000000
stdout short
exit_code 0



=== TEST 11: args reach the program exactly, without a shell
--- config
    location = /cli {
        cli_gateway /bin/echo;
        cli_gateway_admin_claim $http_x_role admin;
    }
--- request
POST /cli
{"args": ["a  b", "*", "$HOME", "`id`", "--x", ""]}
--- sse
started
stdout a  b * $HOME `id` --x 
exit_code 0



=== TEST 12: empty args run the program alone
--- config
    location = /cli {
        cli_gateway /bin/echo;
        cli_gateway_admin_claim $http_x_role admin;
    }
--- request
POST /cli
{"args": []}
--- sse
started
stdout 
exit_code 0



=== TEST 13: a program ended by a signal reports exit_code -1
--- request
POST /cli
{"args": ["-c", "echo bye; kill -9 $$"]}
--- sse
started
stdout bye
exit_code -1
--- error_log eval
qr/cli_gateway: pid \d+ killed by signal 9/



=== TEST 14: unknown fields are ignored
--- request
POST /cli
{"args": ["-c", "echo ok"], "extra": {"nested": [1, 2]}, "timeout_secs": 30}
--- sse
started
stdout ok
exit_code 0



=== TEST 15: each event is flushed as it is produced
HTTP/1.0 so that a stream cut short still parses.
--- request
POST /cli HTTP/1.0
{"args": ["-c", "echo first; sleep 5; echo second"]}
--- timeout: 1
--- abort
--- sse
started
stdout first



=== TEST 16: keep-alive comments while the program is quiet
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_keepalive_interval 300ms;
    }
--- request
POST /cli
{"args": ["-c", "sleep 1.1; echo done"]}
--- sse
started
keepalive
keepalive
...
stdout done
exit_code 0



=== TEST 17: HTTP/1.0 gets a plain stream closed at the end
--- request
POST /cli HTTP/1.0
{"args": ["-c", "echo one"]}
--- response_headers
Content-Type: text/event-stream
!Transfer-Encoding
--- sse
started
stdout one
exit_code 0



=== TEST 18: gzip never buffers the stream
--- http_config
    gzip on;
    gzip_min_length 1;
    gzip_types text/event-stream;
--- more_headers
X-Role: admin
Content-Type: application/json
Accept-Encoding: gzip
--- request
POST /cli
{"args": ["-c", "echo plain"]}
--- response_headers
!Content-Encoding
--- sse
started
stdout plain
exit_code 0



=== TEST 19: cli_gateway_output_max cuts the output at the limit and stops the run
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_output_max 10;
    }
--- request
POST /cli
{"args": ["-c", "echo 12345; echo 67890abc; sleep 10"]}
--- sse
started
stdout 12345
stdout 6789
error Output limit of 10 bytes exceeded
exit_code -1
--- error_log eval
qr/pid \d+ exceeded cli_gateway_output_max 10, stopping it/



=== TEST 20: access_log variables
The bytes are the SSE of the stream: 141 plus the pid's digits.
--- http_config
    log_format cli escape=none
                   'pid=$cli_gateway_pid exit=$cli_gateway_exit_code '
                   'bytes=$cli_gateway_bytes args=$cli_gateway_args '
                   'user=$cli_gateway_user ctx=$cli_gateway_context_id '
                   'duration=$cli_gateway_duration';
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_user $http_x_user;
        access_log logs/cli.log cli;
    }

    location = /log {
        alias logs/cli.log;
    }
--- more_headers
X-Role: admin
X-User: alice
Content-Type: application/json
--- request eval
[
"POST /cli\n" . '{"args": ["-c", "echo \"q\"; exit 7", "x\ny"], "context_id": "c-1"}',
"GET /log",
]
--- error_code eval
[200, 200]
--- response_body_like eval
[
qr/"code":7\}\n\n\z/,
qr/\Apid=[1-9][0-9]* exit=7 bytes=14[2-8] args=\["-c","echo \\"q\\"; exit 7","x\\x0ay"\] user=alice ctx=c-1 duration=0\.\d\d\d\n\z/,
]



=== TEST 21: the stream over HTTP/2 (h2c), read by curl
--- config
    listen 127.0.0.1:1990 http2;

    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
    }
--- request
POST /cli
{"args": ["-c", "curl -sS -N --http2-prior-knowledge -H 'X-Role: admin' -H 'Content-Type: application/json' -d '{\"args\":[\"-c\",\"echo over h2; exit 2\"]}' -w 'HTTP/%{http_version} %{content_type}\\n' http://127.0.0.1:1990/cli | grep -v -e '^$' -e started"]}
--- sse
started
stdout event: cli
stdout event: cli
stdout data: {\"type\":\"stdout\",\"data\":\"over h2\\n\"}
stdout event: cli
stdout data: {\"type\":\"exit_code\",\"code\":2}
stdout HTTP/2 text/event-stream
exit_code 0
