# Copyright (C) 2026 Seed 79e7e746 maintainers

# The child process: how it starts, what it inherits, how it ends.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use CliGateway;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the child holds only stdin, stdout and stderr
--- request
POST /cli
{"args": ["-c", "ls /proc/$$/fd"]}
--- sse
started
stdout 0
stdout 1
stdout 2
exit_code 0



=== TEST 2: stdin is /dev/null
--- request
POST /cli
{"args": ["-c", "readlink /proc/$$/fd/0; cat; echo eof"]}
--- sse
started
stdout /dev/null
stdout eof
exit_code 0



=== TEST 3: default signal dispositions and an empty mask (yes | head ends)
Signals 1 to 31, as a grandchild sees them: glibc's posix_spawn leaves its
own internal real-time signals 32 and 33 ignored.
--- request
POST /cli
{"args": ["-c", "yes | head -n 2; for f in SigBlk SigIgn; do v=$(sed -n \"s/^$f:\t//p\" /proc/self/status); echo $f $(( 0x$v & 0x7fffffff )); done"]}
--- sse
started
stdout y
stdout y
stdout SigBlk 0
stdout SigIgn 0
exit_code 0



=== TEST 4: the child is the leader of its own process group
--- request
POST /cli
{"args": ["-c", "ps -o pgid= -p $$ | tr -d ' '; echo $$"]}
--- response_body_like chomp
\A.*"data":"(\d+)\\n".*"data":"\1\\n".*\z



=== TEST 5: the environment: nginx's kept variables plus cli_gateway_env
(PWD is the shell's; the others are what Test::Nginx's "env" lines keep.)
--- main_config
    env CLI_GATEWAY_KEPT=kept;
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_env SYSTEMPROMPT_CLI_REMOTE 1;
        cli_gateway_env SYSTEMPROMPT_CONTEXT_ID $cli_gateway_context_id;
        cli_gateway_env SYSTEMPROMPT_ROLE $http_x_role;
        cli_gateway_env SYSTEMPROMPT_EMPTY $http_x_missing;
    }
--- request
POST /cli
{"args": ["-c", "env | grep -vE '^(PWD|TZ|LD_[A-Z_]+|ASAN_OPTIONS|DYLD_[A-Z_]+|MOCK[A-Z_]+)=' | sort"], "context_id": "ctx-123"}
--- sse
started
stdout CLI_GATEWAY_KEPT=kept
stdout SYSTEMPROMPT_CLI_REMOTE=1
stdout SYSTEMPROMPT_CONTEXT_ID=ctx-123
stdout SYSTEMPROMPT_ROLE=admin
exit_code 0



=== TEST 6: cli_gateway_clear_env starts from an empty environment
--- main_config
    env CLI_GATEWAY_KEPT=kept;
--- config
    location = /cli {
        cli_gateway /usr/bin/env;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_clear_env on;
        cli_gateway_env ONLY this;
    }
--- request
POST /cli
{"args": []}
--- sse
started
stdout ONLY=this
exit_code 0



=== TEST 7: cli_gateway_working_directory
--- config
    location = /cli {
        cli_gateway /bin/pwd;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_working_directory /tmp;
    }
--- request
POST /cli
{"args": []}
--- sse
started
stdout /tmp
exit_code 0



=== TEST 8: a program that does not exist: error event, exit_code 1
--- config
    location = /cli {
        cli_gateway /nonexistent/cli-gateway-test;
        cli_gateway_admin_claim $http_x_role admin;
    }
--- request
POST /cli
{"args": ["x"]}
--- sse
error No such file or directory (os error 2)
exit_code 1
--- error_log
could not start "/nonexistent/cli-gateway-test"



=== TEST 9: a program that is not executable: error event naming the path, exit_code 1
--- config
    location = /cli {
        cli_gateway /dev/null;
        cli_gateway_admin_claim $http_x_role admin;
    }
--- request
POST /cli
{"args": []}
--- response_body_like eval
qr/\Aevent: cli\ndata: \{"type":"error","message":"Permission denied \(os error 13\): the worker's user \(uid \d+\) cannot execute \/dev\/null"\}\n\nevent: cli\ndata: \{"type":"exit_code","code":1\}\n\n\z/



=== TEST 10: a missing working directory is a spawn failure
--- config
    location = /cli {
        cli_gateway /bin/true;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_working_directory /nonexistent/dir;
    }
--- request
POST /cli
{"args": []}
--- sse
error No such file or directory (os error 2)
exit_code 1



=== TEST 11: timeout_secs 0 times out at once
--- request
POST /cli
{"args": ["-c", "sleep 5"], "timeout_secs": 0}
--- sse
started
error Timeout after 0s
exit_code -1
--- error_log eval
qr/pid \d+ timed out after 0s/



=== TEST 12: timeout_secs is clamped by cli_gateway_timeout; output before it is kept
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_timeout 1s;
    }
--- request
POST /cli
{"args": ["-c", "echo begin; printf partial; sleep 10"], "timeout_secs": 120}
--- sse
started
stdout begin
stdout partial
error Timeout after 1s
exit_code -1



=== TEST 13: cli_gateway_default_timeout applies without timeout_secs
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_default_timeout 1s;
    }
--- request
POST /cli
{"args": ["-c", "sleep 10"]}
--- sse
started
error Timeout after 1s
exit_code -1



=== TEST 14: a timeout kills the whole process group
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
    }
--- request eval
[
"POST /cli\n" . '{"args": ["-c", "sleep 31.4159 & sleep 31.4159"], "timeout_secs": 1}',
"POST /cli\n" . '{"args": ["-c", "sleep 0.3; pgrep -fx \"sleep 31[.]4159\"; echo pgrep $?"]}',
]
--- response_body_like eval
[
qr/"message":"Timeout after 1s".*"code":-1/s,
qr/"data":"pgrep 1\\n".*"code":0/s,
]



=== TEST 15: a program that ignores the stop signal is killed after the grace
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_stop_grace 300ms;
    }
--- request eval
[
"POST /cli\n" . '{"args": ["-c", "trap \"\" TERM; echo armed; sleep 27.1828; sleep 27.1828"], "timeout_secs": 1}',
"POST /cli\n" . '{"args": ["-c", "sleep 0.8; pgrep -f \"sleep 27[.]1828\"; echo pgrep $?"]}',
]
--- response_body_like eval
[
qr/"data":"armed\\n".*"message":"Timeout after 1s".*"code":-1/s,
qr/"data":"pgrep 1\\n".*"code":0/s,
]



=== TEST 16: the program exits but a descendant holds its output: drain, then kill
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_drain_timeout 300ms;
    }
--- request eval
[
"POST /cli\n" . '{"args": ["-c", "sleep 33.3 & echo hi; exit 4"]}',
"POST /cli\n" . '{"args": ["-c", "sleep 0.3; pgrep -fx \"sleep 33[.]3\"; echo pgrep $?"]}',
]
--- response_body_like eval
[
qr/\A[^\n]+\n[^\n]+\n\nevent: cli\ndata: \{"type":"stdout","data":"hi\\n"\}\n\nevent: cli\ndata: \{"type":"exit_code","code":4\}\n\n\z/,
qr/"data":"pgrep 1\\n".*"code":0/s,
]



=== TEST 17: a client that disconnects gets its program's group killed
HTTP/1.0 so that the cut stream still parses.
--- request eval
[
"POST /cli HTTP/1.0\n" . '{"args": ["-c", "sleep 29.9 & echo running; sleep 29.9"]}',
"POST /cli\n" . '{"args": ["-c", "sleep 0.5; pgrep -f \"sleep 29[.]9\"; echo pgrep $?"]}',
]
--- timeout: 1
--- abort
--- response_body_like eval
[
qr/\A[^\n]+\n[^\n]+\n\nevent: cli\ndata: \{"type":"stdout","data":"running\\n"\}\n\n\z/,
qr/"data":"pgrep 1\\n".*"code":0/s,
]



=== TEST 18: the log tells of a disconnect, a stop and a kill after the grace
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_stop_grace 200ms;
    }
--- request
POST /cli HTTP/1.0
{"args": ["-c", "trap '' TERM; echo running; sleep 26.5"]}
--- timeout: 0.5
--- abort
--- wait: 0.5
--- sse
started
stdout running
--- error_log eval
[
qr/request ended before pid \d+, stopping it/,
qr/pid \d+ outlived the stop grace, sending SIGKILL/,
qr/pid \d+ killed by signal 9/,
]



=== TEST 19: the log tells of a drain
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_drain_timeout 100ms;
    }
--- request
POST /cli
{"args": ["-c", "sleep 34.5 & echo hi"]}
--- sse
started
stdout hi
exit_code 0
--- error_log eval
qr/pid \d+ exited but its output is still open, stopping its process group/



=== TEST 20: no zombies and no "unknown process" after runs of every kind
--- request eval
[
"POST /cli\n" . '{"args": ["-c", "exit 0"]}',
"POST /cli\n" . '{"args": ["-c", "exit 5"]}',
"POST /cli\n" . '{"args": ["-c", "kill -9 $$"]}',
"POST /cli\n" . '{"args": ["-c", "sleep 10"], "timeout_secs": 0}',
CliGateway::sh(q{sleep 0.3; ps -o pid=,stat= --ppid $PPID | } . CliGateway::count_zombies()),
]
--- response_body_like eval
[
qr/"code":0\}\n\n\z/,
qr/"code":5\}\n\n\z/,
qr/"code":-1\}\n\n\z/,
qr/"Timeout after 0s".*"code":-1\}\n\n\z/s,
qr/"data":"zombies 0\\n".*"code":0\}\n\n\z/s,
]
--- no_error_log
unknown process
[alert]
