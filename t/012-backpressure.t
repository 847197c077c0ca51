# Copyright (C) 2026 Seed 79e7e746 maintainers

# A slow client: the module stops reading the program's pipes while nginx
# cannot send, so the program blocks on its own writes and the worker does
# not buffer its output. The client is t/lib/slow-reader.py, itself run
# through the gateway, reading a flood from a second server.

use lib 't/lib';
use Cwd qw(abs_path);
use Test::Nginx::Socket 'no_plan';
use CliGateway;

$ENV{TEST_NGINX_SLOW_READER} = abs_path('t/lib/slow-reader.py');
$ENV{TEST_NGINX_SLOW_WHOLE} = abs_path('t/lib/slow-whole.py');
$ENV{TEST_NGINX_KEEPALIVE_BEHIND} = abs_path('t/lib/keepalive-behind.py');

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a writer of 200 MB to a client reading 1 MB/s blocks; the worker stays small
--- http_config
    server {
        listen 127.0.0.1:1996;
        location = /flood {
            cli_gateway /usr/bin/python3;
            cli_gateway_admin_claim $http_x_role admin;
        }
    }
--- config
    location = /cli {
        cli_gateway /usr/bin/python3;
        cli_gateway_admin_claim $http_x_role admin;
    }
--- request eval
"POST /cli\n" . qq({"args": ["$ENV{TEST_NGINX_SLOW_READER}", "http://127.0.0.1:1996/flood"]})
--- sse
started
stdout writer still running: True
stdout writer blocked below 40 MB: True
stdout worker grew less than 16 MB: True
stdout writer gone after the disconnect: True
...
exit_code 0
--- error_log eval
qr/cli_gateway: request ended before pid \d+, stopping it/
--- timeout: 20



=== TEST 2: a flood of empty lines (48 bytes of SSE per byte) is held to a few hundred KiB
--- http_config
    server {
        listen 127.0.0.1:1996;
        location = /flood {
            cli_gateway /usr/bin/python3;
            cli_gateway_admin_claim $http_x_role admin;
        }
    }
--- config
    location = /cli {
        cli_gateway /usr/bin/python3;
        cli_gateway_admin_claim $http_x_role admin;
    }
--- request eval
"POST /cli\n" . qq({"args": ["$ENV{TEST_NGINX_SLOW_READER}", "http://127.0.0.1:1996/flood", "1", "2"]})
--- sse
started
stdout writer still running: True
stdout writer blocked below 40 MB: True
stdout worker grew less than 2 MB: True
stdout writer gone after the disconnect: True
...
exit_code 0
--- error_log eval
qr/cli_gateway: request ended before pid \d+, stopping it/
--- timeout: 20



=== TEST 3: stdout and stderr floods of every kind of line to a slow reader arrive whole, in order
--- http_config
    server {
        listen 127.0.0.1:1996 sndbuf=16k;
        location = /flood {
            cli_gateway /usr/bin/python3;
            cli_gateway_admin_claim $http_x_role admin;
        }
    }
--- config
    location = /cli {
        cli_gateway /usr/bin/python3;
        cli_gateway_admin_claim $http_x_role admin;
    }
--- request eval
"POST /cli\n" . qq({"args": ["$ENV{TEST_NGINX_SLOW_WHOLE}", "http://127.0.0.1:1996/flood", "10000"]})
--- sse
started
stdout stdout: 10000 lines, all in order: True
stdout stderr: 10000 lines, all in order: True
stdout exit codes: [0]
...
exit_code 0
--- no_error_log
[alert]
[crit]
--- timeout: 30



=== TEST 4: a keep-alive that falls due while the client is behind still comes once it caught up
The program is quiet for 6 s after its output; keep-alive is 1 s.
--- http_config
    server {
        listen 127.0.0.1:1996 sndbuf=16k;
        location = /quiet {
            cli_gateway /usr/bin/python3;
            cli_gateway_admin_claim $http_x_role admin;
            cli_gateway_keepalive_interval 1s;
        }
    }
--- config
    location = /cli {
        cli_gateway /usr/bin/python3;
        cli_gateway_admin_claim $http_x_role admin;
    }
--- request eval
"POST /cli\n" . qq({"args": ["$ENV{TEST_NGINX_KEEPALIVE_BEHIND}", "http://127.0.0.1:1996/quiet"]})
--- sse
started
stdout lines: 400
stdout keep-alive frames while quiet, at least 3: True
...
exit_code 0
--- no_error_log
[alert]
[crit]
--- timeout: 20
